-- Papers that appear in several dumps (topic searches, daily lists), most widespread first.
SELECT p.title,
       count(DISTINCT pl.file_sha256) AS dumps,
       list(DISTINCT f.file_name ORDER BY f.file_name) AS files
FROM core.paper_listings pl
JOIN core.papers p USING (paper_id)
JOIN raw.dump_files f USING (file_sha256)
GROUP BY p.paper_id, p.title
HAVING count(DISTINCT pl.file_sha256) > 1
ORDER BY dumps DESC, p.title;
