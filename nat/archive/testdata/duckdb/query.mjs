// query.mjs runs SQL on Parquet files with DuckDB, independently of parquet-go, and prints
// the result rows as JSON. Usage: node query.mjs "SQL" ; the Go test (duckdb_test.go) calls it.
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const reader = await con.runAndReadAll(sql);
process.stdout.write(JSON.stringify(reader.getRowObjectsJson()));
