-- Most-upvoted papers this month. Upvotes come only from fetched pages and API JSON, so
-- "this month" is the calendar month of the newest upvote observation in the warehouse
-- (for the real calendar month use date_trunc('month', current_date) instead).
WITH month AS (
    SELECT date_trunc('month', max(observed_on)) AS start
    FROM marts.paper_history WHERE upvotes IS NOT NULL
)
SELECT p.title, max(h.upvotes) AS upvotes, p.arxiv_id, max(h.observed_on) AS last_observed
FROM marts.paper_history h
JOIN core.papers p USING (paper_id)
CROSS JOIN month
WHERE h.upvotes IS NOT NULL AND h.observed_on >= month.start
GROUP BY p.paper_id, p.title, p.arxiv_id
ORDER BY upvotes DESC, p.title
LIMIT 20;
