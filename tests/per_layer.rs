//! An activation per hidden layer (`relu/tanh/identity`): trained, compared
//! as one row per combination, folded by `collapse` where identity joins
//! layers, and carried through the weights file and the PyTorch export.

use crate::common::{path_str, train_ok, user_error};

#[test]
fn collapse_folds_the_layers_identity_joins_and_keeps_the_rest() {
    let output = train_ok([
        "collapse",
        "--activations",
        "relu,relu/identity/identity,identity/relu/identity",
        "--epochs",
        "20",
        "--json",
    ]);
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // One name on every layer: nothing partial to say.
    assert!(reports[0].get("partial").is_none(), "{}", reports[0]);
    // relu after fc1 only: fc2, fc3 and fc4 are one map, so the seed's
    // four layers are two: 10 -> 18 -> 1 with relu, the same function.
    let late = &reports[1]["partial"];
    assert_eq!(late["folds"], serde_json::json!([[2, 4]]), "{late}");
    assert_eq!(
        late["folded_sizes"],
        serde_json::json!([10, 18, 1]),
        "{late}"
    );
    assert_eq!(late["folded_activation"], "relu");
    assert!(late["relative_error"].as_f64().unwrap() < 1e-5, "{late}");
    // relu after fc2 only: fc1 + fc2 and fc3 + fc4 fold, 10 -> 18 -> 1.
    let middle = &reports[2]["partial"];
    assert_eq!(
        middle["folds"],
        serde_json::json!([[1, 2], [3, 4]]),
        "{middle}"
    );
    assert_eq!(
        middle["folded_sizes"],
        serde_json::json!([10, 18, 1]),
        "{middle}"
    );
    assert!(
        middle["relative_error"].as_f64().unwrap() < 1e-5,
        "{middle}"
    );
    // The relu in them keeps either from being one linear map.
    for report in &reports.as_array().unwrap()[1..] {
        assert!(
            report["relative_error"].as_f64().unwrap() > 1e-2,
            "{report}"
        );
    }
    let text = train_ok([
        "collapse",
        "--activations",
        "relu/identity/identity",
        "--epochs",
        "5",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("identity joins fc2 + fc3 + fc4 into one map each; what stays is 10 -> 18 -> 1 with relu"),
        "{text}"
    );
}

/// Every combination is checked before anything trains (relu trained
/// first, then the misfit failed with exit 1).
#[test]
fn compare_checks_every_combination_before_training() {
    let output = crate::common::train_bin()
        .args([
            "compare",
            "--activations",
            "relu,relu/tanh/identity",
            "--hidden",
            "8,8",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert!(!stderr.contains("train mse"), "nothing trained: {stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        error.starts_with("error: --activations relu/tanh/identity: ")
            && error.contains("names 3 activations for 2 hidden layers"),
        "{stderr}"
    );
}

#[test]
fn a_combination_is_one_row_trains_per_layer_and_travels_with_its_weights() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare");
    let output = train_ok([
        "compare",
        "--activations",
        "relu,relu/tanh/identity",
        "--epochs",
        "5",
        "--out",
        path_str(&out),
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("relu/tanh/identity ")),
        "{table}"
    );
    let names = crate::common::csv_column_text(&out.join("summary.csv"), "activation");
    assert_eq!(names[..2], ["relu", "relu/tanh/identity"]);

    // A run of a combination: its config says it, its weights file names it,
    // and predict reads it back.
    let run = dir.path().join("run");
    train_ok([
        "--activation",
        "tanh/relu/sigmoid",
        "--epochs",
        "3",
        "--out",
        path_str(&run),
        "--quiet",
    ]);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        config.contains("activation = \"tanh/relu/sigmoid\""),
        "{config}"
    );
    let weights = std::fs::read(run.join("model.safetensors")).unwrap();
    assert!(
        String::from_utf8_lossy(&weights).contains("tanh/relu/sigmoid"),
        "the file's metadata names the combination"
    );
    // A list in a config is the same combination.
    let listed = dir.path().join("listed.toml");
    std::fs::write(
        &listed,
        "[model]\nactivation = [\"tanh\", \"relu\", \"sigmoid\"]\n[training]\nepochs = 3\n",
    )
    .unwrap();
    let again = dir.path().join("again");
    train_ok([
        "--config",
        path_str(&listed),
        "--out",
        path_str(&again),
        "--quiet",
    ]);
    assert_eq!(
        std::fs::read(again.join("model.safetensors")).unwrap(),
        weights,
        "the list and the text train the same network"
    );
    // As many names as hidden layers, and learnable ones only throughout.
    let error = user_error(&["--activation", "relu/tanh", "--epochs", "1"]);
    assert!(
        error.contains("names 2 activations for 3 hidden layers"),
        "{error}"
    );
    let error = user_error(&["--config", path_str(&listed), "--hidden", "8,8"]);
    assert!(
        error.contains("`tanh/relu/sigmoid` names 3 activations for 2 hidden layers"),
        "{error}"
    );
}
