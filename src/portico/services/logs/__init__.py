"""CloudWatch Logs: log groups, streams and events, served from the store.

runtime ──put()──► StoreLogSink ──batches, ProcessWriter (a child)──► store (records + log_events)
boto3 / CLI ──► LogsProvider ──to_thread──► LogsRepository ──► store
RetentionSweeper.run_once() ──► deletes events older than each group's retention
"""
