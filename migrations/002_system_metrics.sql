-- Per-turn latencies and other time series. A TimescaleDB hypertable with compression and
-- retention policies where the extension can be loaded (docker-compose), otherwise a table
-- natively range-partitioned by month. Both layouts share columns and the (id, time) key that
-- makes metric events idempotent (a unique key must contain the partitioning column).
--
-- No foreign keys here: this is the highest-volume table, rows may be written before their
-- call's conversation row, and they expire by dropping whole partitions/chunks.

DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'TimescaleDB unavailable (%), using native monthly partitions', SQLERRM;
  END;

  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    CREATE TABLE system_metrics (
      id UUID NOT NULL DEFAULT gen_random_uuid(),
      time TIMESTAMP WITH TIME ZONE NOT NULL,
      organization_id UUID NOT NULL,
      metric_name VARCHAR(100) NOT NULL,
      metric_value DECIMAL(14,3) NOT NULL,
      tags JSONB,
      conversation_id UUID,
      PRIMARY KEY (id, time)
    );
    PERFORM create_hypertable('system_metrics', 'time', chunk_time_interval => INTERVAL '1 day');
    -- Compressed chunks need every unique-key column in segmentby or orderby.
    ALTER TABLE system_metrics SET (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'metric_name',
      timescaledb.compress_orderby = 'time DESC, id'
    );
    PERFORM add_compression_policy('system_metrics', INTERVAL '7 days');
    PERFORM add_retention_policy('system_metrics', INTERVAL '30 days');
  ELSE
    CREATE TABLE system_metrics (
      id UUID NOT NULL DEFAULT gen_random_uuid(),
      time TIMESTAMP WITH TIME ZONE NOT NULL,
      organization_id UUID NOT NULL,
      metric_name VARCHAR(100) NOT NULL,
      metric_value DECIMAL(14,3) NOT NULL,
      tags JSONB,
      conversation_id UUID,
      PRIMARY KEY (id, time)
    ) PARTITION BY RANGE (time);
    -- Catches rows outside every monthly partition (clock skew, very late events) so an insert
    -- is never rejected; ensure_metric_partitions moves them out when their month is created.
    CREATE TABLE system_metrics_default PARTITION OF system_metrics DEFAULT;
  END IF;
END
$$;

CREATE INDEX idx_metrics_name_time ON system_metrics(metric_name, time DESC);
CREATE INDEX idx_metrics_conversation_id ON system_metrics(conversation_id);
CREATE INDEX idx_metrics_tags ON system_metrics USING GIN(tags);

-- Creates monthly partitions from last month to `months_ahead` months from now (a no-op on a
-- hypertable). Safe to call repeatedly and concurrently: the persister's daily maintenance job
-- runs it. Returns the number of partitions created.
CREATE OR REPLACE FUNCTION ensure_metric_partitions(months_ahead INT DEFAULT 3)
RETURNS INT AS $$
DECLARE
  month_start DATE;
  month_end DATE;
  part_name TEXT;
  created INT := 0;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RETURN 0;
  END IF;
  -- Serialises concurrent callers; released at commit.
  PERFORM pg_advisory_xact_lock(hashtext('ensure_metric_partitions'));
  FOR i IN -1..months_ahead LOOP
    month_start := (date_trunc('month', NOW() AT TIME ZONE 'UTC') + make_interval(months => i))::DATE;
    month_end := (month_start + INTERVAL '1 month')::DATE;
    part_name := format('system_metrics_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    CONTINUE WHEN to_regclass(part_name) IS NOT NULL;
    -- Attaching a range the default partition already holds rows for would fail, so build the
    -- partition detached, move those rows in, then attach.
    EXECUTE format('CREATE TABLE %I (LIKE system_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part_name);
    EXECUTE format(
      'WITH moved AS (DELETE FROM system_metrics_default WHERE time >= %L::timestamptz AND time < %L::timestamptz RETURNING *)
       INSERT INTO %I SELECT * FROM moved',
      month_start::TEXT || ' 00:00:00+00', month_end::TEXT || ' 00:00:00+00', part_name);
    EXECUTE format('ALTER TABLE system_metrics ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
      part_name, month_start::TEXT || ' 00:00:00+00', month_end::TEXT || ' 00:00:00+00');
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$ LANGUAGE plpgsql;

-- Deletes metrics older than `cutoff`: whole monthly partitions that end before it are
-- dropped (cheap), stragglers in the default partition and in the month straddling the cutoff
-- are deleted. On a hypertable it drops chunks. Returns the number of partitions dropped.
CREATE OR REPLACE FUNCTION purge_system_metrics(cutoff TIMESTAMP WITH TIME ZONE)
RETURNS INT AS $$
DECLARE
  part RECORD;
  dropped INT := 0;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    EXECUTE 'SELECT count(*) FROM drop_chunks(''system_metrics'', older_than => $1)' INTO dropped USING cutoff;
    RETURN dropped;
  END IF;
  FOR part IN
    SELECT c.relname,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'system_metrics'::regclass AND c.relname <> 'system_metrics_default'
  LOOP
    IF part.upper_bound <= cutoff THEN
      EXECUTE format('DROP TABLE %I', part.relname);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  DELETE FROM system_metrics WHERE time < cutoff;
  RETURN dropped;
END;
$$ LANGUAGE plpgsql;

SELECT ensure_metric_partitions(3);
