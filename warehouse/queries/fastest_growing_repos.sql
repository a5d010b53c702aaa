-- Fastest-growing repositories this month: stars gained over the last 30 days of
-- observations, with the papers that link them.
SELECT t.full_name, t.stars, t.star_gain_30d, t.star_gain_7d, t.papers, t.first_observed
FROM marts.repo_trending t
WHERE t.star_gain_30d > 0
ORDER BY t.star_gain_30d DESC, t.stars DESC
LIMIT 20;
