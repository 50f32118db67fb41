//! The `rvs` binary: a thin shell over [`rvs::cli::main`].

fn main() -> std::process::ExitCode {
    rvs::cli::main()
}
