-- Papers whose code is missing or a placeholder: the official repository is gone (404,
-- taken down), empty, or only a README promising code; newest papers first.
SELECT title, arxiv_id, official_repo, code_status, coalesce(placeholder_reason, repo_status)
       AS why, last_push
FROM marts.papers_with_code
WHERE code_status IN ('gone', 'placeholder')
ORDER BY published_date DESC NULLS LAST, title;
