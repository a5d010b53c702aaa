-- What was set aside, and why: whole files (position is null) and single entries.
SELECT f.file_name, f.status, r.position, r.reason, r.excerpt
FROM raw.rejects r
JOIN raw.dump_files f USING (file_sha256)
ORDER BY f.file_name, r.position NULLS FIRST;
