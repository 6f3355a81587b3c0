// The DuckDB peer of the replay benchmark (issue 16): how fast DuckDB scans
// the same ticks from Parquet (zstd) on one thread. A benchmark peer only:
// DuckDB comes from npm's @duckdb/node-api, installed by hand where the
// caller says (never part of the build or the tests). Nothing of ticktape's
// code is here; it reads a CSV that `ticktape tape export` wrote.
//
//   npm install --prefix DIR @duckdb/node-api
//   NODE_PATH=DIR/node_modules node bench/duckdb_peer.mjs ticks.csv OUT.parquet [repeat]
//
// Writes OUT.parquet from the CSV (time as int64 milliseconds, bid and ask as
// int32 points, volumes as float32, zstd level 19: the layout whose size is
// issue 16's Parquet figure, 1,366,038 bytes for the EURUSD sample), prints its
// size, then times on one thread, `repeat` times each, two scans that read
// every value of every column: the maxima of expressions (so that the
// column statistics cannot answer) and sums (the answers are printed, so
// nothing is skipped). Medians of wall and process CPU time, in ticks per
// second.
import { createRequire } from "module";
import fs from "fs";

const require = createRequire(process.env.NODE_PATH ? process.env.NODE_PATH + "/" : import.meta.url);
const { DuckDBInstance } = require("@duckdb/node-api");

const [csv, parquet, repeatArg] = process.argv.slice(2);
if (!csv || !parquet) {
    console.error("usage: duckdb_peer.mjs ticks.csv OUT.parquet [repeat]");
    process.exit(2);
}
const repeat = Number(repeatArg || 7);

const db = await DuckDBInstance.create(":memory:", { threads: "1" });
const con = await db.connect();
await con.run(`COPY (SELECT (time // 1000000)::BIGINT AS time,
                            round(bid * 100000)::INTEGER AS bid, round(ask * 100000)::INTEGER AS ask,
                            bid_volume::FLOAT AS bid_volume, ask_volume::FLOAT AS ask_volume
                     FROM read_csv('${csv}', header = true))
               TO '${parquet}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19)`);
const bytes = fs.statSync(parquet).size;

const src = `read_parquet('${parquet}')`;
const queries = {
    max: `SELECT count(*) AS n, max(time + 1) AS t, max(bid + 1) AS b, max(ask + 1) AS a,
                 max(bid_volume + 1) AS bv, max(ask_volume + 1) AS av FROM ${src}`,
    sum: `SELECT count(*) AS n, sum(time) AS t, sum(bid) AS b, sum(ask) AS a,
                 sum(bid_volume) AS bv, sum(ask_volume) AS av FROM ${src}`,
};
const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
const out = { duckdb_threads: 1, parquet_bytes: bytes };
for (const [name, q] of Object.entries(queries)) {
    const wall = [], cpu = [];
    let answer;
    for (let i = 0; i < repeat; i++) {
        const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
        const r = await con.runAndReadAll(q);
        const t1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
        wall.push(Number(t1 - t0) / 1e9);
        cpu.push((c1.user + c1.system) / 1e6);
        answer = r.getRowObjects()[0];
    }
    const n = Number(answer.n);
    out.ticks = n;
    out.bytes_per_tick = bytes / n;
    out[name] = {
        wall_s: median(wall), cpu_s: median(cpu), ticks_per_s_wall: n / median(wall),
        ticks_per_s_cpu: n / median(cpu),
        answer: Object.fromEntries(Object.entries(answer).map(([k, v]) => [k, String(v)])),
    };
}
console.log(JSON.stringify(out));
