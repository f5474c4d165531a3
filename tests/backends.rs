//! The design card's command, `cargo run -p train -- --backend wgpu` (and
//! `ndarray`), on the default build, and what wgpu says on a machine without
//! a GPU: a CPU driver works and says so before training; no driver at all is
//! one line naming the packages to install.

use train::backend::BackendKind;

use crate::common::{train_bin, train_fails, wgpu_or_skip};

/// The seed's last-batch loss, as the summary prints it (the tutorial's run).
const SEED_LAST_BATCH: &str = "  last batch     0.045013 ";

/// Environment that hides every Vulkan driver from the loader.
const NO_VULKAN: [(&str, &str); 2] = [
    ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
    ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
];

/// Environment that hides every EGL (OpenGL) vendor from libglvnd.
const NO_GL: [(&str, &str); 1] = [("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")];

/// Runs `train` with the seed's config on `backend`: (exit code, stdout, stderr).
fn seed_on(backend: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let output = train_bin()
        .args(["--backend", backend, "--quiet"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_default_build_has_every_backend_the_design_card_names() {
    assert_eq!(BackendKind::compiled(), BackendKind::ALL);
}

#[test]
fn the_cards_command_runs_the_seed_on_ndarray() {
    let (code, stdout, stderr) = seed_on("ndarray", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(SEED_LAST_BATCH), "{stdout}");
    assert!(
        stdout.contains("  backend        ndarray on CPU (ndarray)"),
        "{stdout}"
    );
}

/// `--backend wgpu` ends at the seed's loss; on a CPU driver (lavapipe in CI)
/// its first line, before training, says so and points at flex.
#[test]
fn the_cards_command_runs_the_seed_on_wgpu_and_names_a_cpu_driver() {
    let Some(backend) = wgpu_or_skip("the card's command on wgpu") else {
        return;
    };
    let (code, stdout, stderr) = seed_on("wgpu", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(SEED_LAST_BATCH), "{stdout}");
    let first = stderr.lines().next().unwrap_or_default();
    if backend.cpu_driver {
        assert!(
            first.starts_with("note: wgpu found no GPU, only the CPU driver ")
                && first.ends_with("flex is ~65x faster here (--backend flex)"),
            "{stderr}"
        );
    } else {
        assert!(!stderr.contains("CPU driver"), "{stderr}");
    }
}

/// With neither a Vulkan driver nor a GL one, `--backend wgpu` is one line
/// with exit 2 that names the Debian package to install, never a panic.
#[test]
fn wgpu_with_no_driver_at_all_names_the_package_to_install() {
    let env: Vec<(&str, &str)> = NO_VULKAN.iter().chain(&NO_GL).copied().collect();
    let error = train_fails(2, &["--backend", "wgpu", "--quiet"], &env);
    assert!(
        error.starts_with("wgpu found no GPU and no CPU driver ("),
        "{error}"
    );
    assert!(
        error.ends_with("apt-get install mesa-vulkan-drivers) or use --backend flex"),
        "{error}"
    );
}

/// Vulkan hidden, GL left as the machine has it: either the seed trains on
/// GL to the same loss, or the run ends in one line with exit 2.
#[test]
fn wgpu_without_vulkan_trains_on_gl_or_says_why_not() {
    let (code, stdout, stderr) = seed_on("wgpu", &NO_VULKAN);
    assert!(!stderr.contains("panicked"), "{stderr}");
    match code {
        0 => {
            assert!(stdout.contains(SEED_LAST_BATCH), "{stdout}");
            assert!(stdout.contains(", Gl)"), "{stdout}");
        }
        2 => {
            let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
            assert_eq!(errors, 1, "{stderr}");
            assert!(
                stderr.contains("apt-get install mesa-vulkan-drivers"),
                "{stderr}"
            );
        }
        _ => panic!("exit {code}: {stderr}"),
    }
}

/// The note's figure is the one BENCHMARKS.md measured.
#[test]
fn the_cpu_driver_note_quotes_the_measured_ratio() {
    let benchmarks =
        std::fs::read_to_string(crate::common::repo_root().join("BENCHMARKS.md")).unwrap();
    let figure = format!("flex ran it **{}x**", train::backend::FLEX_OVER_CPU_DRIVER);
    assert!(
        benchmarks.contains(&figure),
        "BENCHMARKS.md lacks `{figure}`"
    );
}
