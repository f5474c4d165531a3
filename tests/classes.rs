//! Several classes end to end: `cross_entropy` over K logits on a spiral of
//! three arms and on blobs, through `compare` (its multinomial logistic
//! row), the K-colour pictures, `predict`, `eval` and `regions`, and the
//! one-line errors of a config that mixes up classes and outputs.

use std::fs;

use crate::common::{csv_column, csv_column_text, path_str, svg_texts, train_ok, user_error};

/// A config of `classes` classes of `kind`, one logit each.
fn classes_config(kind: &str, classes: usize, epochs: usize) -> String {
    format!(
        "seed = 3\n[data]\nkind = \"{kind}\"\nclasses = {classes}\nsamples = 240\nvalidation_fraction = 0.25\n\
         [model]\ninput = 2\nhidden = [16, 16]\noutput = {classes}\nactivation = \"relu\"\n\
         [training]\nloss = \"cross_entropy\"\nepochs = {epochs}\nbatch_size = 20\nlr = 0.01\n"
    )
}

#[test]
fn a_spiral_of_three_arms_needs_an_activation_and_the_linear_row_is_multinomial() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("spiral3.toml");
    fs::write(&config, classes_config("spiral", 3, 200)).unwrap();
    let out = dir.path().join("compare");
    let output = train_ok([
        "compare",
        "--config",
        path_str(&config),
        "--activations",
        "identity,relu",
        "--out",
        path_str(&out),
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    let summary = out.join("summary.csv");
    let names = csv_column_text(&summary, "activation");
    assert_eq!(
        names,
        [
            "identity",
            "relu",
            "multinomial logistic regression (linear, max. likelihood)"
        ]
    );
    let train_loss = csv_column(&summary, "train_loss");
    let accuracy = csv_column(&summary, "val_accuracy");
    // Three interleaved arms: a linear map is little better than a guess.
    assert!(accuracy[0] < 0.6, "identity {}", accuracy[0]);
    assert!(accuracy[1] > accuracy[0] + 0.2, "relu {accuracy:?}");
    // Maximum likelihood is the best linear model for the loss: no linear
    // network does better on the rows both were fitted to (the ridge and
    // float32 leave a hair).
    assert!(
        train_loss[2] <= train_loss[0] + 1e-4,
        "logistic {} vs identity {}",
        train_loss[2],
        train_loss[0]
    );
    assert!(table.contains("multinomial logistic regression"), "{table}");

    // One colour per class in every picture, and the class boundary.
    let svg = fs::read_to_string(out.join("surfaces.svg")).unwrap();
    let texts = svg_texts(&svg);
    for label in ["class 0", "class 1", "class 2", "class boundary"] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
    assert!(
        texts.iter().any(|t| t == "p(the class it picks)"),
        "{texts:?}"
    );
    let regions = fs::read_to_string(out.join("regions.svg")).unwrap();
    let regions_texts = svg_texts(&regions);
    assert!(
        regions_texts.iter().any(|t| t == "class 2"),
        "{regions_texts:?}"
    );
    // The identity network is one region, cut by the boundaries of three
    // classes; relu's many regions carry the boundary through dozens.
    let title = regions_texts
        .iter()
        .find(|t| t.starts_with("relu:"))
        .unwrap();
    let crossed: usize = title
        .split(", ")
        .nth(1)
        .and_then(|part| part.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{title}"));
    assert!(crossed > 10, "{title}");
}

#[test]
fn predict_gives_every_class_probability_and_eval_checks_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("blobs.toml");
    fs::write(&config, classes_config("blobs", 4, 40)).unwrap();
    let run = dir.path().join("run");
    train_ok([
        "--config",
        path_str(&config),
        "--out",
        path_str(&run),
        "--quiet",
    ]);
    // The blobs' centres: (0, 1), (-1, 0), (0, -1), (1, 0) for classes 0..3.
    let points = dir.path().join("points.csv");
    fs::write(&points, "x1,x2\n0,1\n-1,0\n0,-1\n1,0\n").unwrap();
    let output = train_ok([
        "predict",
        "--model",
        path_str(&run),
        "--input",
        path_str(&points),
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("probability_0,probability_1,probability_2,probability_3,class")
    );
    for (centre, line) in lines.enumerate() {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        let total: f64 = cells[..4].iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "{line}");
        let best = (0..4).fold(0, |b, k| if cells[k] > cells[b] { k } else { b });
        assert_eq!(cells[4] as usize, best, "{line}");
        assert_eq!(best, centre, "each centre is its own class: {line}");
    }

    let labelled = dir.path().join("labelled.csv");
    fs::write(&labelled, "x1,x2,class\n0,1,0\n-1,0,1\n0,-1,2\n1,0,3\n").unwrap();
    let output = train_ok([
        "eval",
        "--model",
        path_str(&run),
        "--input",
        path_str(&labelled),
        "--json",
    ]);
    let scores: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(scores["accuracy"].as_f64(), Some(1.0), "{scores}");
    assert!(scores["cross_entropy"].as_f64().unwrap() > 0.0, "{scores}");

    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "x1,x2,class\n0,1,0\n-1,0,4\n").unwrap();
    assert_eq!(
        user_error(&["eval", "--model", path_str(&run), "--input", path_str(&bad)]),
        format!(
            "training.loss = \"cross_entropy\" needs class numbers 0..3 (model.output = 4), but \
             data row 2 of {} has 4",
            bad.display()
        )
    );
}

#[test]
fn classes_and_outputs_that_disagree_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cases = [
        (
            write(
                "one.toml",
                "[data]\nkind = \"spiral\"\n[model]\ninput = 2\n[training]\nloss = \"cross_entropy\"\n",
            ),
            "key `model.output`: must be at least 2 under training.loss = \"cross_entropy\"",
        ),
        (
            write(
                "mismatch.toml",
                "[data]\nkind = \"spiral\"\nclasses = 3\n[model]\ninput = 2\noutput = 4\n[training]\nloss = \"cross_entropy\"\n",
            ),
            "key `model.output`: is 4 but data.kind = \"spiral\" has 3 classes (data.classes)",
        ),
        (
            write(
                "bce.toml",
                "[data]\nkind = \"blobs\"\n[model]\ninput = 2\n[training]\nloss = \"bce\"\n",
            ),
            "key `training.loss`: is \"bce\", which tells two classes apart, but data.kind = \"blobs\" has 3",
        ),
        (
            write(
                "circle.toml",
                "[data]\nkind = \"circle\"\nclasses = 3\n[model]\ninput = 2\n",
            ),
            "key `data.classes`: does not apply to data.kind = \"circle\"",
        ),
        (
            write(
                "many.toml",
                "[data]\nkind = \"blobs\"\nclasses = 9\n[model]\ninput = 2\noutput = 9\n[training]\nloss = \"cross_entropy\"\n",
            ),
            "key `data.classes`: must be in 2..=8 (got 9)",
        ),
        (
            write(
                "noise.toml",
                "[model]\noutput = 3\n[training]\nloss = \"cross_entropy\"\n",
            ),
            "key `training.loss`: cross_entropy needs class labels, but data.kind = \"noise\"",
        ),
    ];
    crate::common::config_errors_name_their_file(&cases);
    // A CSV's labels are checked when it is read, naming the row.
    let csv = write("data.csv", "a,b,y\n1,0,0\n2,1,1.5\n");
    let config = write(
        "csv.toml",
        &format!(
            "[data]\nkind = \"csv\"\npath = \"{}\"\n[model]\ninput = 2\noutput = 2\n[training]\nloss = \"cross_entropy\"\n",
            csv.replace('\\', "/")
        ),
    );
    let error = user_error(&["--config", &config, "--epochs", "1"]);
    assert!(
        error.contains("needs class numbers 0..1 (model.output = 2), but data row 2"),
        "{error}"
    );
    // Seeds batched into one network train one output each.
    let spiral = write("spiral.toml", &classes_config("spiral", 3, 2));
    let error = user_error(&["compare", "--config", &spiral, "--seeds", "2", "--batched"]);
    assert!(error.contains("cross_entropy"), "{error}");
}
