-- Retention (seed 003, agents/feedback-survey/index.ts): the persister's daily run deletes
-- failed survey calls after 7 days and anonymizes old ones.
GRANT DELETE ON survey_calls TO voice_persister;
