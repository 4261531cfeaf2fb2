-- heraldd import-customers merges several rounds at once, on several connections (--jobs).
-- Each round holds the consent buckets of its contacts (0016) while it writes them and their
-- initial consent; with 0016's exclusive locks a round of thousands of contacts holds nearly
-- all 256 buckets, so the rounds ran one after the other. An import's rounds take them in
-- shared mode instead: they do not wait for each other, while a PUT, an opt-out or another
-- merge (exclusive) still waits for them and they for it. The import keeps the rounds it runs
-- at the same time address-disjoint and runs alone (a session advisory lock), so no two
-- shared holders write the same address.
CREATE FUNCTION herald.consent_lock_buckets_shared(buckets integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  bucket integer;
BEGIN
  FOR bucket IN SELECT DISTINCT b FROM unnest(buckets) AS b ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock_shared(7310004, bucket);
  END LOOP;
END $$;
