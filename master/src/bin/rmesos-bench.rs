//! `rmesos-bench`: the master at scale (issue 7). Prints one `name value`
//! line per figure; see `rmesos_master::bench` and BENCHMARKS.md. Run with
//! `cargo run --release -p rmesos-master --bin rmesos-bench`.

fn main() {
    rmesos_master::bench::main();
}
