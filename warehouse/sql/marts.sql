-- Marts: the warehouse's read side, for notebooks, BI tools and scripts.
-- Views over core tables and the insert-only observation history. Descriptions of every
-- table and column are declared in pipeline/db/schema.py and applied with COMMENT ON.

-- An incomplete save superseded by its complete one (raw.dump_files.status) withdraws
-- its observations: the complete save holds the same ones, and counting both would
-- double them. This is the one correction the history takes.
DELETE FROM marts.listing_observations
WHERE file_sha256 IN (SELECT file_sha256 FROM raw.dump_files WHERE status = 'superseded');

-- New listings join the history (marts.listing_observations, declared with the other
-- tables in pipeline/db/schema.py): appended once, never updated, so it survives any later
-- rebuild of the core tables. An observation is dated by when it was made: a fetched
-- file's fetch (a day re-fetched while its upvotes settle is observed on each day it
-- was fetched), else the file's day, else the day it was loaded.
INSERT INTO marts.listing_observations
SELECT l.file_sha256, l.position,
       coalesce(f.fetched_at::DATE, f.snapshot_date, f.ingested_at::DATE), f.snapshot_date,
       l.upvotes, l.comments, now()::TIMESTAMP
FROM raw.listings l
JOIN raw.dump_files f USING (file_sha256)
ANTI JOIN marts.listing_observations o USING (file_sha256, position)
ORDER BY l.file_sha256, l.position;

CREATE OR REPLACE VIEW marts.paper_history AS
SELECT pl.paper_id,
       o.observed_on,
       bool_and(o.snapshot_date IS NOT NULL) AS snapshot_date_known,
       max(o.upvotes) AS upvotes,
       max(o.comments) AS comments,
       count(*)::INTEGER AS appearances,
       list(DISTINCT o.file_sha256 ORDER BY o.file_sha256) AS files
FROM marts.listing_observations o
JOIN core.paper_listings pl USING (file_sha256, position)
GROUP BY pl.paper_id, o.observed_on;

CREATE OR REPLACE VIEW marts.trending AS
WITH latest AS (SELECT max(observed_on) AS day FROM marts.paper_history),
recent AS (
    SELECT h.* FROM marts.paper_history h, latest
    WHERE h.observed_on > latest.day - INTERVAL 30 DAY
)
SELECT r.paper_id,
       p.title,
       sum(r.appearances)::INTEGER AS appearances_30d,
       count(*)::INTEGER AS snapshots_30d,
       arg_max(r.upvotes, r.observed_on) AS upvotes_latest,
       arg_max(r.upvotes, r.observed_on) - arg_min(r.upvotes, r.observed_on) AS upvote_gain_30d,
       max(r.observed_on) AS last_observed
FROM recent r JOIN core.papers p USING (paper_id)
GROUP BY r.paper_id, p.title
ORDER BY upvote_gain_30d DESC NULLS LAST, appearances_30d DESC, upvotes_latest DESC NULLS LAST,
         r.paper_id;

CREATE OR REPLACE VIEW marts.papers_with_repos AS
SELECT p.paper_id, p.title, p.published_date, p.arxiv_id, p.organization, p.upvotes,
       p.first_seen, p.last_seen,
       list(r.repo ORDER BY lower(r.repo)) AS repos,
       list(r.url ORDER BY lower(r.repo)) AS repo_urls,
       list(DISTINCT r.source ORDER BY r.source) AS repo_sources,
       count(*)::INTEGER AS repo_count
FROM core.papers p JOIN core.paper_repos r USING (paper_id)
GROUP BY ALL;

CREATE OR REPLACE VIEW marts.papers_by_organization AS
SELECT org_handle, organization,
       count(*)::INTEGER AS papers,
       sum(listing_count)::INTEGER AS listings,
       max(published_date) AS latest_published,
       list(title ORDER BY published_date DESC NULLS LAST, title)[1:5] AS recent_titles
FROM core.papers
WHERE organization IS NOT NULL
GROUP BY org_handle, organization;

CREATE OR REPLACE VIEW marts.unresolved_papers AS
SELECT p.paper_id, p.title, coalesce(m.status, 'not_checked') AS arxiv_status,
       m.checked_at, m.error
FROM core.papers p LEFT JOIN core.arxiv_matches m USING (paper_id)
WHERE p.arxiv_id IS NULL;

CREATE OR REPLACE VIEW marts.data_quality AS
SELECT 'rejects_by_reason' AS metric, split_part(reason, ':', 1) AS detail,
       count(*)::INTEGER AS count
FROM raw.rejects GROUP BY 2
UNION ALL
SELECT 'files_by_status', status, count(*)::INTEGER FROM raw.dump_files GROUP BY 2
UNION ALL
SELECT 'files_without_snapshot_date', trim(split_part(snapshot_date_source, ':', 2)),
       count(*)::INTEGER
FROM raw.dump_files WHERE snapshot_date IS NULL AND status = 'loaded' GROUP BY 2
UNION ALL
SELECT 'unresolved_papers', arxiv_status, count(*)::INTEGER FROM marts.unresolved_papers GROUP BY 2;

-- Each paper with its official repository (the most starred, when the evidence names
-- several) as GitHub describes it, and what that means for a reader: `available`,
-- `placeholder` (empty, or only a README promising code), `gone` (404 or taken down),
-- `unverified` (GitHub not asked yet, or no answer), `no_official_repository` (links,
-- none of them the paper's own) or `no_repository`.
CREATE OR REPLACE VIEW marts.papers_with_code AS
WITH official AS (
    SELECT pr.paper_id, pr.repo, pr.url, r.full_name, r.status, r.stars, r.license,
           r.pushed_at, r.archived, r.placeholder, r.placeholder_reason,
           row_number() OVER (PARTITION BY pr.paper_id
                              ORDER BY r.stars DESC NULLS LAST, lower(pr.repo)) AS rank,
           count(*) OVER (PARTITION BY pr.paper_id) AS officials
    FROM core.paper_repos pr LEFT JOIN core.repos r ON r.repo = lower(pr.repo)
    WHERE pr.role = 'official'
),
linked AS (SELECT paper_id, count(*) AS repos FROM core.paper_repos GROUP BY paper_id)
SELECT p.paper_id, p.title, p.arxiv_id, p.published_date,
       o.repo AS official_repo, o.url AS official_url, o.full_name,
       o.status AS repo_status, o.stars, o.license, o.pushed_at AS last_push, o.archived,
       o.placeholder, o.placeholder_reason,
       coalesce(o.officials, 0)::INTEGER AS official_repos,
       coalesce(l.repos, 0)::INTEGER AS linked_repos,
       CASE WHEN o.repo IS NULL AND l.repos IS NULL THEN 'no_repository'
            WHEN o.repo IS NULL THEN 'no_official_repository'
            WHEN o.status IN ('not_found', 'blocked') THEN 'gone'
            WHEN o.status = 'empty' OR o.placeholder THEN 'placeholder'
            WHEN o.status IN ('ok', 'moved') THEN 'available'
            ELSE 'unverified' END AS code_status
FROM core.papers p
LEFT JOIN official o ON o.paper_id = p.paper_id AND o.rank = 1
LEFT JOIN linked l ON l.paper_id = p.paper_id;

-- Star gain of each repository over the 7 and 30 days before its latest observation:
-- from the last observation at or before the window's start, else the first inside it
-- (so a repository watched for less long shows the gain seen so far, with its start).
CREATE OR REPLACE VIEW marts.repo_trending AS
WITH obs AS (
    SELECT repo, observed_at, stars FROM core.repo_observations WHERE stars IS NOT NULL
),
latest AS (
    SELECT repo, max(observed_at) AS observed_at, arg_max(stars, observed_at) AS stars
    FROM obs GROUP BY repo
),
windows AS (
    SELECT l.repo, l.observed_at, l.stars,
           coalesce(arg_max(o.stars, o.observed_at)
                        FILTER (WHERE o.observed_at <= l.observed_at - INTERVAL 7 DAY),
                    arg_min(o.stars, o.observed_at)) AS stars_7d_ago,
           coalesce(arg_max(o.stars, o.observed_at)
                        FILTER (WHERE o.observed_at <= l.observed_at - INTERVAL 30 DAY),
                    arg_min(o.stars, o.observed_at)
                        FILTER (WHERE o.observed_at > l.observed_at - INTERVAL 30 DAY))
               AS stars_30d_ago,
           min(o.observed_at) AS first_observed
    FROM latest l JOIN obs o USING (repo)
    GROUP BY ALL
)
SELECT w.repo, r.full_name, r.status, w.stars, w.observed_at AS last_observed,
       w.first_observed,
       (w.stars - w.stars_7d_ago)::INTEGER AS star_gain_7d,
       (w.stars - w.stars_30d_ago)::INTEGER AS star_gain_30d,
       (SELECT count(DISTINCT pr.paper_id) FROM core.paper_repos pr
        WHERE lower(pr.repo) = w.repo)::INTEGER AS papers
FROM windows w LEFT JOIN core.repos r USING (repo);
