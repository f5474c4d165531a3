//! The `train` binary answers `--help` and `--version` (this test also makes
//! `cargo test --workspace` build the binary the end-to-end tests run).

use std::process::Command;

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_train"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for command in [
        "compare",
        "collapse",
        "diagnose",
        "plot",
        "--backend",
        "--config",
    ] {
        assert!(
            text.contains(command),
            "`{command}` missing from --help:\n{text}"
        );
    }
}
