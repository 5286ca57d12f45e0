-- Seed 001's analytics views, with seed 000's upper-case call statuses.

CREATE VIEW conversation_success_rate AS
SELECT
  DATE_TRUNC('day', started_at) AS date,
  COUNT(*) FILTER (WHERE status = 'COMPLETED') * 100.0 / COUNT(*) AS success_rate,
  COUNT(*) AS total_conversations
FROM conversations
WHERE started_at >= NOW() - INTERVAL '30 days'
GROUP BY DATE_TRUNC('day', started_at)
ORDER BY date DESC;

CREATE VIEW avg_duration_by_state AS
SELECT
  final_state,
  AVG(duration_seconds) AS avg_duration_seconds,
  COUNT(*) AS conversation_count
FROM conversations
WHERE status = 'COMPLETED'
GROUP BY final_state;

CREATE VIEW error_rate_by_type AS
SELECT
  error_type,
  COUNT(*) AS error_count,
  COUNT(*) FILTER (WHERE severity = 'critical') AS critical_count
FROM error_logs
WHERE created_at >= NOW() - INTERVAL '7 days'
GROUP BY error_type
ORDER BY error_count DESC;

CREATE VIEW slot_extraction_accuracy AS
SELECT
  slot_name,
  AVG(confidence_score) AS avg_confidence,
  COUNT(*) AS total_extractions,
  COUNT(*) FILTER (WHERE validated = TRUE) AS validated_count
FROM extracted_slots
WHERE created_at >= NOW() - INTERVAL '30 days'
GROUP BY slot_name;
