-- GitHub repositories linked to more than one paper (companion papers, follow-ups, or a
-- lab's shared code base).
SELECT lower(r.repo) AS repo,
       count(DISTINCT r.paper_id) AS papers,
       list(p.title ORDER BY p.title) AS titles
FROM core.paper_repos r
JOIN core.papers p USING (paper_id)
GROUP BY lower(r.repo)
HAVING count(DISTINCT r.paper_id) > 1
ORDER BY papers DESC, repo;
