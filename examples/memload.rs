//! The cockpit's load path in phases (open, first page, book, queue,
//! orders), with the process's memory after each, on the system allocator
//! so heaptrack sees every allocation: `cargo run --release --example
//! memload -- DIR [scan]`.
include!("support/memload_body.rs");

fn main() {
    body()
}
