-- Newest papers with code: the 20 most recently published papers that link at least one
-- GitHub repository (from the abstract, Hugging Face or arXiv).
SELECT title, published_date, arxiv_id, repos, repo_urls
FROM marts.papers_with_repos
ORDER BY published_date DESC NULLS LAST, title
LIMIT 20;
