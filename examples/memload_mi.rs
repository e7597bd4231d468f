//! As `memload`, on mimalloc as the cockpit binary runs.
include!("support/memload_body.rs");

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    body()
}
