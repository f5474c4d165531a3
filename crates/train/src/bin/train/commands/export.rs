//! `train export DIR --pytorch FILE.py`: a run as one self-contained Python
//! file: an `nn.Module` with the run's layers and activations, its
//! engineered inputs and standardisation as code, a reader of the run's
//! `model.safetensors` (torch alone, no other package), and `predict`,
//! which answers what `train predict` prints.

use std::fmt::Write as _;

use model::Activation;
use train::config::{DataKind, InputFeature, RunConfig};
use train::io::atomic::write_atomic;
use train::io::checkpoint::Checkpoint;
use train::io::run_dir::MODEL_FILE;
use train::user_error;

use crate::cli::ExportArgs;

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    if args.pytorch.extension().is_none_or(|ext| ext != "py") {
        return Err(user_error!(
            "--pytorch {}: name a Python file ending in .py",
            args.pytorch.display()
        ));
    }
    train::io::atomic::check_output_file("--pytorch", &args.pytorch, "model.py")?;
    let checkpoint = Checkpoint::open(&args.dir)?;
    // Read as predict reads them: a damaged or partial weights file is
    // refused here, not later when Python loads it.
    let config = &checkpoint.config;
    let backend = train::backend::Backend::open_or_default(None)?;
    train::io::weights::read_trained_weights(
        &checkpoint.model_path()?,
        &config.layer_sizes(),
        config.model.activation,
        &backend.device,
    )?;
    let weights = std::path::absolute(args.dir.join(MODEL_FILE))?;
    let text = python_module(&checkpoint, &weights.display().to_string());
    write_atomic(&args.pytorch, text.as_bytes())?;
    println!(
        "wrote {} (python3 {0} POINTS.csv prints what `train predict --model {} --input \
         POINTS.csv` prints)",
        args.pytorch.display(),
        args.dir.display()
    );
    Ok(())
}

/// PyTorch's module for `activation` after a layer of `units` units, as
/// Python source; a learnable one's parameter is loaded with the weights.
fn torch_activation(activation: Activation, units: usize) -> String {
    match activation {
        Activation::Identity => "nn.Identity()".into(),
        Activation::Relu => "nn.ReLU()".into(),
        Activation::LeakyRelu { negative_slope } => format!("nn.LeakyReLU({negative_slope:?})"),
        Activation::Sigmoid => "nn.Sigmoid()".into(),
        Activation::Tanh => "nn.Tanh()".into(),
        Activation::Gelu => "nn.GELU()".into(),
        Activation::Silu => "nn.SiLU()".into(),
        Activation::Elu { alpha } => format!("nn.ELU({alpha:?})"),
        Activation::Softplus => "nn.Softplus()".into(),
        Activation::Selu => "nn.SELU()".into(),
        Activation::Mish => "nn.Mish()".into(),
        Activation::Hardswish => "nn.Hardswish()".into(),
        Activation::Hardsigmoid => "nn.Hardsigmoid()".into(),
        Activation::Hardtanh { min, max } => format!("nn.Hardtanh({min:?}, {max:?})"),
        Activation::Relu6 => "nn.ReLU6()".into(),
        Activation::Celu { alpha } => format!("nn.CELU({alpha:?})"),
        Activation::GeluTanh => "nn.GELU(approximate=\"tanh\")".into(),
        Activation::Softsign => "nn.Softsign()".into(),
        Activation::Sin { w0 } => format!("Sin({w0:?})"),
        Activation::Prelu { per_unit, .. } => {
            format!("nn.PReLU({})", if per_unit { units } else { 1 })
        }
        Activation::SwishBeta { .. } => "SwishBeta()".into(),
    }
}

/// An engineered input as a Python expression of the point's `x1`, `x2`.
fn python_input(input: InputFeature) -> &'static str {
    match input {
        InputFeature::X1 => "x1",
        InputFeature::X2 => "x2",
        InputFeature::X1Squared => "x1 * x1",
        InputFeature::X2Squared => "x2 * x2",
        InputFeature::Product => "x1 * x2",
        InputFeature::SinX1 => "torch.sin(x1)",
        InputFeature::SinX2 => "torch.sin(x2)",
    }
}

/// A list of floats as Python source, each exactly (repr round-trips).
fn floats(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", shown.join(", "))
}

/// The whole Python file for the run `checkpoint`, reading its weights from `weights`.
fn python_module(checkpoint: &Checkpoint, weights: &str) -> String {
    let config: &RunConfig = &checkpoint.config;
    let sizes = config.layer_sizes();
    let layers = sizes.len() - 1;
    let plane = config.data.kind.is_plane();
    let columns = match config.data.kind {
        kind if kind.is_plane() => 2,
        DataKind::Function => 1,
        _ => config.model.input,
    };
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "\"\"\"{} network {:?}, exported by `train export` from {}.\n\n\
         The layers and activations of the run, its inputs and standardisation as code, and\n\
         predict(points), which returns what `train predict` prints for the same rows. Needs\n\
         torch only. As a script: python3 THIS.py POINTS.csv [--no-header] prints the same\n\
         CSV as `train predict --model DIR --input POINTS.csv`.\n\"\"\"\n",
        config.model.activation,
        sizes,
        checkpoint.dir.display()
    );
    let _ = writeln!(
        w,
        "import csv\nimport json\nimport sys\n\nimport torch\nfrom torch import nn\n"
    );
    let _ = writeln!(w, "WEIGHTS = {weights:?}");
    let _ = writeln!(w, "SIZES = {sizes:?}");
    let _ = writeln!(w, "# Columns of a row of points, before any target column.");
    let _ = writeln!(w, "COLUMNS = {columns}");
    let target = match (&config.data.kind, &config.data.target) {
        (DataKind::Csv, Some(train::config::TargetColumn::Index(index))) => index.to_string(),
        _ => "None".into(),
    };
    let _ = writeln!(
        w,
        "# The target column's index when a row has one more column (None: the last).\nTARGET = {target}"
    );
    let loss = config.training.loss.name();
    let _ = writeln!(w, "LOSS = {loss:?}");
    let _ = writeln!(
        w,
        "CLASSIFIES = {}",
        if config.is_classification() {
            "True"
        } else {
            "False"
        }
    );
    match &checkpoint.state.standardizer {
        Some(s) => {
            let _ = writeln!(
                w,
                "# The training rows' standardisation: (input - MEAN) * SCALE.\nMEAN = {}\nSCALE = {}",
                floats(&s.mean),
                floats(&s.scale)
            );
        }
        None => {
            let _ = writeln!(w, "MEAN = None\nSCALE = None");
        }
    }
    let _ = writeln!(
        w,
        "\n\nclass Sin(nn.Module):\n    \"\"\"sin(w0 x), SIREN's activation.\"\"\"\n\n    \
         def __init__(self, w0=1.0):\n        super().__init__()\n        self.w0 = w0\n\n    \
         def forward(self, x):\n        return torch.sin(self.w0 * x)\n"
    );
    let _ = writeln!(
        w,
        "\nclass SwishBeta(nn.Module):\n    \"\"\"x * sigmoid(beta x) with beta trained (Ramachandran et al. 2017).\"\"\"\n\n    \
         def __init__(self):\n        super().__init__()\n        self.beta = nn.Parameter(torch.ones(1))\n\n    \
         def forward(self, x):\n        return x * torch.sigmoid(self.beta * x)\n"
    );
    let _ = writeln!(
        w,
        "\nclass Network(nn.Module):\n    \"\"\"fc1 .. fc{layers}, the activation after every hidden layer (act1 ..).\"\"\"\n\n    \
         def __init__(self):\n        super().__init__()"
    );
    for layer in 0..layers {
        let _ = writeln!(
            w,
            "        self.fc{} = nn.Linear({}, {})",
            layer + 1,
            sizes[layer],
            sizes[layer + 1]
        );
        if layer + 1 < layers {
            let _ = writeln!(
                w,
                "        self.act{} = {}",
                layer + 1,
                torch_activation(config.model.activation.layer(layer), sizes[layer + 1])
            );
        }
    }
    let _ = writeln!(w, "\n    def forward(self, x):");
    for layer in 0..layers {
        let _ = writeln!(w, "        x = self.fc{}(x)", layer + 1);
        if layer + 1 < layers {
            let _ = writeln!(w, "        x = self.act{}(x)", layer + 1);
        }
    }
    let _ = writeln!(w, "        return x\n");
    let _ = writeln!(
        w,
        "\ndef read_safetensors(path):\n    \"\"\"The tensors of a .safetensors file (8-byte header length, JSON header, raw\n    \
         little-endian data), read with torch alone.\"\"\"\n    \
         with open(path, \"rb\") as file:\n        data = file.read()\n    \
         length = int.from_bytes(data[:8], \"little\")\n    \
         header = json.loads(data[8 : 8 + length])\n    \
         types = {{\"F32\": torch.float32, \"F64\": torch.float64}}\n    \
         tensors = {{}}\n    \
         for name, info in header.items():\n        \
         if name == \"__metadata__\":\n            continue\n        \
         start, end = info[\"data_offsets\"]\n        \
         raw = bytearray(data[8 + length + start : 8 + length + end])\n        \
         tensors[name] = torch.frombuffer(raw, dtype=types[info[\"dtype\"]]).reshape(info[\"shape\"]).float()\n    \
         return tensors\n\n\
         \ndef load(path=WEIGHTS):\n    \"\"\"The trained network, its weights read from the run's model.safetensors.\"\"\"\n    \
         network = Network()\n    network.load_state_dict(read_safetensors(path))\n    \
         return network.eval()\n"
    );
    // Engineered inputs in float64, rounded to float32, then standardised
    // in float64 and rounded again: as the Rust side computes them.
    let _ = writeln!(
        w,
        "\ndef features(points):\n    \"\"\"The network's inputs for rows of points (a list of rows or an array).\"\"\"\n    \
         x = torch.as_tensor(points, dtype=torch.float64).reshape(-1, COLUMNS)"
    );
    if plane {
        let inputs: Vec<&str> = config.data.inputs().into_iter().map(python_input).collect();
        let _ = writeln!(
            w,
            "    x1, x2 = x[:, 0], x[:, 1]\n    x = torch.stack([{}], dim=1)",
            inputs.join(", ")
        );
    }
    let _ = writeln!(
        w,
        "    x = x.float()\n    if MEAN is not None:\n        \
         x = ((x.double() - torch.tensor(MEAN, dtype=torch.float64)) * torch.tensor(SCALE, dtype=torch.float64)).float()\n    \
         return x\n"
    );
    let _ = writeln!(
        w,
        "\ndef predict(points, network=None):\n    \"\"\"What `train predict` prints for each row: (probability, class) under bce,\n    \
         (p_0, ..., p_K-1, class) under cross_entropy, (prediction, class) for 0/1 labels\n    \
         under mse, else the prediction.\"\"\"\n    \
         network = network or load()\n    \
         if LOSS == \"cross_entropy\":\n        \
         with torch.no_grad():\n            logits = network(features(points)).double()\n        \
         probabilities = torch.softmax(logits, dim=1).tolist()\n        \
         classes = torch.argmax(logits, dim=1).tolist()\n        \
         return [tuple(p) + (k,) for p, k in zip(probabilities, classes)]\n    \
         with torch.no_grad():\n        out = network(features(points))[:, 0].tolist()\n    \
         if LOSS == \"bce\":\n        \
         return [(1.0 / (1.0 + torch.exp(torch.tensor(-v)).item()), int(v > 0.0)) for v in out]\n    \
         if CLASSIFIES:\n        return [(v, int(v > 0.5)) for v in out]\n    \
         return out\n"
    );
    let _ = writeln!(
        w,
        "\ndef read_points(path, header=True):\n    \"\"\"Rows of a CSV file as `train predict` reads them: a target column dropped.\"\"\"\n    \
         with open(path, newline=\"\") as file:\n        rows = [row for row in csv.reader(file) if row]\n    \
         if header:\n        rows = rows[1:]\n    \
         points = []\n    \
         for row in rows:\n        values = [float(cell) for cell in row]\n        \
         if len(values) == COLUMNS + 1:\n            \
         del values[TARGET if TARGET is not None else COLUMNS]\n        \
         points.append(values)\n    \
         return points\n\n\
         \nif __name__ == \"__main__\":\n    \
         header = \"--no-header\" not in sys.argv[2:]\n    \
         rows = predict(read_points(sys.argv[1], header))\n    \
         if LOSS == \"cross_entropy\":\n        \
         print(\",\".join([f\"probability_{{k}}\" for k in range(SIZES[-1])] + [\"class\"]))\n    \
         elif LOSS == \"bce\":\n        print(\"probability,class\")\n    \
         elif CLASSIFIES:\n        print(\"prediction,class\")\n    \
         else:\n        print(\"prediction\")\n    \
         for row in rows:\n        \
         print(\",\".join(str(v) for v in row) if isinstance(row, tuple) else row)"
    );
    out
}
