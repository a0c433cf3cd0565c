"""Deterministic demo data for Fieldservice (`manage.py seed_demo`).

Every random choice is drawn from one `random.Random(seed)` in a fixed order, and every
date is derived from the `today` the command is given, so a seed and a date always
produce the same rows. Modules are split by subject: `scales` (how much), `geography`
(parks and territories), `names` and `catalog` (static vocabularies), `people`,
`customers`, `installed_base`, `contracts`, `history` (two years of work, driven by each
account's latent service quality), `lifecycle` (events, checklists, parts, surveys),
`backlog` (today's open work), `bulk` (COPY writer), `wipe` and `runner`.
"""
