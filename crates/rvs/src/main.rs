//! The `rvs` binary: a thin shell over [`rvs::cli::main`].

/// With the `mimalloc` feature, every allocation of the daemon goes through mimalloc (see
/// [`rvs::allocator_name`]); without it, through the system's malloc.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rvs::cli::main()
}
