//! The built `paybridge` binary, for tests of start-up, exit codes and signals.

use std::path::PathBuf;

/// Path of `target/<profile>/paybridge`, built by `make test` before the tests run.
///
/// # Panics
/// When the binary has not been built, with the command that builds it.
#[must_use]
pub fn paybridge_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PAYBRIDGE_BIN") {
        return PathBuf::from(p);
    }
    // The test executable lives in target/<profile>/deps/; the binary one level up.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir");
    let bin = profile_dir.join(format!("paybridge{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p paybridge-server --bin paybridge` (make test does)",
        bin.display()
    );
    bin
}
