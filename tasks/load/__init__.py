"""Load stage: the data directory (local or object store), Hive partitions, staged atomic publishing."""
