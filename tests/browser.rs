//! The live lab in a real browser: Debian's headless Chromium, driven through
//! chromedriver (WebDriver, `common::webdriver`). Where no Chromium can be
//! had the test says why and passes, unless `ACTLAB_REQUIRE_BROWSER=1` (CI).
//!
//! `ACTLAB_SCREENSHOT=docs/lab.png` also saves the page, once both runs
//! have finished, for README.md (see "The live lab" there).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::lab::LabServer;
use crate::common::webdriver::{Driver, Session};
use crate::common::{needed_or_skip, repo_root};

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Chromium and its driver, or why the test cannot run here.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("no chromium on PATH (Debian: apt-get install chromium chromium-driver)")?;
    let driver = on_path(&["chromedriver"])
        .ok_or("no chromedriver on PATH (Debian: apt-get install chromium-driver)")?;
    Ok((chromium, driver))
}

/// Waits until the page has made its lab with the default pair.
fn wait_for_default_pair(session: &Session) {
    wait_for(
        session,
        "the two panels of the default pair",
        "return [...document.querySelectorAll('.run .activation')].map((e) => e.textContent);",
        |names| names == &json!(["identity", "relu"]),
    );
}

/// Polls `script` until `done` holds for its value (90 s at most).
fn wait_for(session: &Session, what: &str, script: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let value = session.execute(script);
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last: {value}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

const ACCURACIES: &str = "return ['A', 'B'].map((run) => {
    const shown = document.querySelector(`#run-${run} .accuracy`);
    return shown && shown.dataset.value !== '' ? Number(shown.dataset.value) : null; });";

/// Distinct colours of the relu panel's surface, and the share of painted pixels.
const SURFACE: &str = "const canvas = document.querySelector('#run-B .surface');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set(); let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) painted++;
      colours.add(`${data[i] >> 3},${data[i + 1] >> 3},${data[i + 2] >> 3}`);
    }
    return [colours.size, painted / (data.length / 4)];";

/// The identity panel: its 0.5 boundary's segments, whether its colour bar
/// is hidden, and the class legend's first entry.
const IDENTITY_PANEL: &str = "const run = page.runs.A; const picture = run.picture;
    const panel = document.querySelector('#run-A');
    return [boundarySegments(picture.values, picture.resolution).length,
      document.querySelector('#run-A .scale').hidden,
      panel.querySelector('.class-legend').textContent.trim().split(/\\s+/).slice(0, 2).join(' ')];";

/// Run A's and B's region counts and how many polygons B's panel has.
const REGIONS: &str =
    "const count = (run) => page.runs[run].regions && page.runs[run].regions.count;
    const b = page.runs.B.regions;
    return [count('A'), count('B'), b && b.polygons ? b.polygons.length : null];";

/// Clicks B's diagram on hidden layer 1's second unit, where the page draws it.
const CLICK_UNIT: &str = "const canvas = document.querySelector('#run-B .diagram');
    const node = diagramLayout(page.runs.B.diagram, canvas.width).nodes[1][1];
    const box = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new MouseEvent('click', { bubbles: true,
      clientX: box.left + node.x * box.width / canvas.width,
      clientY: box.top + node.y * box.height / canvas.height }));";

/// The unit B's page asked for, whether its enlarged view is hidden, the
/// switching line's segments drawn, and the enlarged view's title.
const FOCUS: &str = "const panel = document.querySelector('#run-B');
    return [page.runs.B.unit, panel.querySelector('.focus-box').hidden, page.runs.B.switchSegments || 0,
      panel.querySelector('.focus-note b') ? panel.querySelector('.focus-note b').textContent : ''];";

#[test]
fn in_chromium_relu_overtakes_identity_on_the_circle_and_draws_its_surface() {
    let Some((chromium, driver_path)) =
        needed_or_skip("ACTLAB_REQUIRE_BROWSER", "the browser test", browser())
    else {
        return;
    };
    let server = LabServer::start(&[]);
    let driver = Driver::start(&driver_path);
    let session = driver.session(&chromium, (1400, 1100));
    session.goto(&server.url);
    // The page makes its lab with the default pair.
    wait_for_default_pair(&session);
    // The server's limits, under the form.
    let limits = session.execute("return document.querySelector('#limits-hint').textContent;");
    assert_eq!(
        limits,
        "Each run takes at most 10000 samples, 100 inputs, 8 hidden layers of 128 units, 8 \
         outputs (classes) and 10000 epochs."
    );
    session.click("#start");
    let shown = wait_for(
        &session,
        "relu's accuracy to pass identity's",
        ACCURACIES,
        |a| match (a[0].as_f64(), a[1].as_f64()) {
            (Some(identity), Some(relu)) => relu > identity + 0.1,
            _ => false,
        },
    );
    eprintln!("shown accuracies (identity, relu): {shown}");
    let surface = session.execute(SURFACE);
    assert!(
        surface[0].as_u64() >= Some(20) && surface[1].as_f64() >= Some(0.99),
        "the surface canvas is drawn (colours, painted share): {surface}"
    );
    // The identity run's nearly flat surface still shows its boundary, its
    // colour bar and the class legend, as the figures draw them.
    let identity = session.execute(IDENTITY_PANEL);
    assert!(
        identity[0].as_u64() > Some(0)
            && identity[1] == json!(false)
            && identity[2] == json!("class 0"),
        "boundary segments, colour bar hidden?, legend: {identity}"
    );
    // The region toggle: B's exact map arrives as polygons and is drawn;
    // identity's count is exactly 1.
    session.click("#run-B .show-regions");
    let regions = wait_for(&session, "B's region polygons", REGIONS, |r| {
        r[1].as_u64().is_some_and(|n| n > 1) && r[2] == r[1]
    });
    assert_eq!(regions[0], json!(1), "identity's regions: {regions}");
    let painted = session.execute(SURFACE);
    assert!(
        painted[0].as_u64() >= Some(6),
        "the region map is drawn in several colours: {painted}"
    );
    // A unit click: the unit is enlarged and its switching line drawn on the picture.
    session.execute(CLICK_UNIT);
    let focus = wait_for(&session, "the clicked unit", FOCUS, |f| {
        f[0] == json!([0, 1]) && f[1] == json!(false) && f[2].as_u64().is_some_and(|n| n > 0)
    });
    eprintln!("focus (unit, hidden?, switching segments, title): {focus}");
    assert_eq!(focus[3], json!("hidden layer 1, unit 2"));
    if let Some(path) = std::env::var_os("ACTLAB_SCREENSHOT").map(|path| repo_root().join(path)) {
        wait_for(
            &session,
            "both runs to finish",
            "return document.querySelector('#status').textContent;",
            |status| status == "finished / finished",
        );
        std::thread::sleep(Duration::from_millis(500));
        std::fs::write(&path, session.screenshot()).unwrap();
        eprintln!("wrote {}", path.display());
    }
    // A bad setting: the page shows the server's one-line message.
    session.execute(
        "const lr = document.querySelector('#lr-B'); lr.value = '-1';
         lr.dispatchEvent(new Event('input', { bubbles: true }));",
    );
    session.click("#reset");
    let error = wait_for(
        &session,
        "the error message",
        "const box = document.querySelector('#error'); return box.hidden ? '' : box.textContent;",
        |text| text.as_str().is_some_and(|t| !t.is_empty()),
    );
    assert_eq!(
        error,
        "run B: key `training.lr`: must be > 0 and finite in float32 (got -1)"
    );
    // Text that is no number: the page quotes it.
    session.execute(
        "const lr = document.querySelector('#lr-B'); lr.value = 'abc';
         lr.dispatchEvent(new Event('input', { bubbles: true }));",
    );
    session.click("#reset");
    let error = wait_for(
        &session,
        "the quoted text",
        "return document.querySelector('#error').textContent;",
        |text| text.as_str().is_some_and(|t| t.contains("abc")),
    );
    assert_eq!(error, "B: learning rate: \"abc\" is not a number");
    // The L1 control: the page shows the penalty apart from the loss.
    session.execute(
        "const lr = document.querySelector('#lr-B'); lr.value = '0.01';
         const l1 = document.querySelector('#l1'); l1.value = '0.001';
         l1.dispatchEvent(new Event('input', { bubbles: true }));",
    );
    session.click("#reset");
    wait_for(
        &session,
        "a lab with the L1 penalty",
        "return page.lab && page.lab.runs[1].config_toml.includes('l1 = 0.001');",
        |ready| ready == &json!(true),
    );
    session.click("#step");
    let penalty = wait_for(
        &session,
        "the penalty shown",
        "const shown = document.querySelector('#run-B .penalty-shown');
         const last = page.runs.B.records[page.runs.B.records.length - 1];
         return shown.hidden || !last ? null : [last.penalty, last.train_loss];",
        |p| p.is_array(),
    );
    assert!(
        penalty[0].as_f64().is_some_and(|p| p > 0.0),
        "penalty, train loss: {penalty}"
    );
    // A reload of the tab finds its lab again; the address holds the setup.
    let before = session.execute("return [page.lab.id, location.hash];");
    assert!(
        before[1].as_str().unwrap().starts_with("#setup="),
        "{before}"
    );
    session.execute("location.reload();");
    let after = wait_for(
        &session,
        "the lab after a reload",
        "return page.lab ? page.lab.id : null;",
        |id| id.is_string(),
    );
    assert_eq!(after, before[0], "a reload reconnects to the tab's lab");
    drop(session);
    // A link with another setup, in a new browser: a new lab made from it,
    // A with an activation per hidden layer.
    let setup = json!({
        "shared": { "data.kind": "xor", "data.samples": 200, "training.epochs": 40, "model.hidden": [6, 4],
                    "training.loss": "bce", "data.inputs": ["x1", "x2"], "model.input": 2 },
        "runs": [ { "model.activation": "relu/tanh", "training.lr": 0.02 }, { "model.activation": "relu", "training.lr": 0.01 } ],
    });
    let link = format!("{}/#setup={}", server.url, urlencoding(&setup.to_string()));
    let shared = driver.session(&chromium, (1400, 1000));
    shared.goto(&link);
    let restored = wait_for(
        &shared,
        "the linked setup",
        "return page.lab ? [page.lab.id, [...document.querySelectorAll('.run .activation')].map((e) => e.textContent),
           document.querySelector('#data-kind').value, document.querySelector('#lr-A').value,
           [...document.querySelectorAll('#hidden input')].map((i) => i.value),
           document.querySelector('#activation-A').value] : null;",
        |r| r.is_array(),
    );
    assert_ne!(restored[0], before[0], "a new browser makes its own lab");
    assert_eq!(restored[1], json!(["relu/tanh", "relu"]), "{restored}");
    assert_eq!(restored[2], "xor", "{restored}");
    assert_eq!(restored[3], "0.02", "{restored}");
    assert_eq!(restored[4], json!(["6", "4"]), "{restored}");
    assert_eq!(
        restored[5], "relu/tanh",
        "the combination is typed in: {restored}"
    );
    drop(shared);
    drop(driver);
    drop(server);
}

/// `text` percent-encoded for a URL's fragment (every byte but letters and digits).
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn in_chromium_off_loopback_the_page_keeps_the_token_out_of_its_address() {
    let Some((chromium, driver_path)) =
        needed_or_skip("ACTLAB_REQUIRE_BROWSER", "the browser test", browser())
    else {
        return;
    };
    let server = LabServer::start(&["--listen", "0.0.0.0"]);
    let token = server.token.clone().expect("a token off loopback");
    let driver = Driver::start(&driver_path);
    let session = driver.session(&chromium, (1400, 1100));
    session.goto(&format!("{}/?token={token}", server.url));
    // The lab is made and its events stream only if every request carries the token.
    wait_for_default_pair(&session);
    let address = session.execute("return location.href;");
    assert!(
        address.as_str().is_some_and(|href| !href.contains("token")),
        "the token stays in the address bar: {address}"
    );
    session.click("#start");
    wait_for(
        &session,
        "accuracies from the event stream",
        ACCURACIES,
        |a| a[0].as_f64().is_some() && a[1].as_f64().is_some(),
    );
    drop(session);
    drop(driver);
    drop(server);
}

/// Chooses data set `kind` in the form (its preset loads), trains the pair
/// as fast as it can and returns, per run, its last validation accuracy
/// and loss; also the preset note shown and the form's epochs.
fn train_preset(session: &Session, kind: &str) -> Value {
    session.execute(&format!(
        "const kind = document.querySelector('#data-kind'); kind.value = '{kind}';
         kind.dispatchEvent(new Event('change', {{ bubbles: true }}));
         const speed = document.querySelector('#speed'); speed.value = '0';"
    ));
    session.click("#reset");
    wait_for(
        session,
        &format!("a lab on {kind}"),
        "return page.lab && page.lab.runs[0].config_toml.includes(document.querySelector('#data-kind').value) && page.runs.A.view.epoch === 0;",
        |ready| ready == &json!(true),
    );
    session.click("#start");
    wait_for(
        session,
        &format!("the {kind} pair to finish"),
        "return document.querySelector('#status').textContent;",
        |status| status == "finished / finished",
    );
    // `ACTLAB_PRESET_SHOTS=docs/presets` saves four presets' pages for README.md.
    let shown = ["xor", "spiral", "gauss", "function"].contains(&kind);
    if let Some(dir) = std::env::var_os("ACTLAB_PRESET_SHOTS")
        .filter(|_| shown)
        .map(|dir| repo_root().join(dir))
    {
        std::fs::create_dir_all(&dir).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        std::fs::write(dir.join(format!("{kind}.png")), session.screenshot()).unwrap();
    }
    session.execute(
        "const last = (run) => page.runs[run].records[page.runs[run].records.length - 1];
         return { accuracy: ['A', 'B'].map((run) => last(run).val_accuracy),
                  loss: ['A', 'B'].map((run) => last(run).val_loss),
                  note: document.querySelector('#preset-note').textContent,
                  epochs: Number(document.querySelector('#epochs').value) };",
    )
}

#[test]
fn in_chromium_every_preset_loads_and_its_pair_makes_the_point_the_page_states() {
    let Some((chromium, driver_path)) =
        needed_or_skip("ACTLAB_REQUIRE_BROWSER", "the browser test", browser())
    else {
        return;
    };
    let server = LabServer::start(&[]);
    let driver = Driver::start(&driver_path);
    let session = driver.session(&chromium, (1400, 1000));
    session.goto(&server.url);
    wait_for_default_pair(&session);
    // At 1400 x 1000 the charts start above the fold.
    let fold = session.execute(
        "return [document.querySelector('#loss-chart').getBoundingClientRect().top, innerHeight];",
    );
    assert!(
        fold[0].as_f64().unwrap() + 100.0 < fold[1].as_f64().unwrap(),
        "the charts' top and the window's height: {fold}"
    );
    let value = |v: &Value, key: &str, run: usize| v[key][run].as_f64().unwrap();
    // Sets no straight line separates: relu clearly ahead.
    for (kind, margin, file) in [
        ("xor", 0.3, "config/xor.toml"),
        ("moons", 0.1, "config/moons.toml"),
        ("spiral", 0.2, "config/spiral.toml"),
    ] {
        let got = train_preset(&session, kind);
        eprintln!("{kind}: {got}");
        assert!(
            got["note"]
                .as_str()
                .unwrap()
                .ends_with(&format!("({file})")),
            "{got}"
        );
        assert!(
            value(&got, "accuracy", 1) >= value(&got, "accuracy", 0) + margin,
            "{kind}: relu ahead by {margin}: {got}"
        );
    }
    assert_eq!(train_preset(&session, "spiral")["epochs"], 300);
    // The counter-cases: a line is enough (gauss, linear), nothing to learn (noise).
    let gauss = train_preset(&session, "gauss");
    assert!(
        (value(&gauss, "accuracy", 0) - value(&gauss, "accuracy", 1)).abs() <= 0.02
            && value(&gauss, "accuracy", 0) >= 0.95,
        "{gauss}"
    );
    assert!(
        gauss["note"]
            .as_str()
            .unwrap()
            .starts_with("The counter-case"),
        "{gauss}"
    );
    let linear = train_preset(&session, "linear");
    assert!(
        value(&linear, "loss", 0) <= value(&linear, "loss", 1) * 1.05,
        "{linear}"
    );
    let noise = train_preset(&session, "noise");
    assert!(
        value(&noise, "loss", 1) >= value(&noise, "loss", 0),
        "{noise}"
    );
    // Curved truths: relu's validation loss far under identity's.
    let sine = train_preset(&session, "function");
    assert!(
        value(&sine, "loss", 1) * 5.0 < value(&sine, "loss", 0),
        "{sine}"
    );
    let friedman = train_preset(&session, "friedman1");
    assert!(
        value(&friedman, "loss", 1) * 2.0 < value(&friedman, "loss", 0),
        "{friedman}"
    );
    drop(session);
    // At 900 px nothing is cut off: the runs stack, nothing scrolls sideways.
    let narrow = driver.session(&chromium, (900, 1000));
    narrow.goto(&server.url);
    wait_for_default_pair(&narrow);
    let sides = narrow.execute(
        "return [document.querySelector('#run-B').getBoundingClientRect().right,
                 document.documentElement.scrollWidth, document.documentElement.clientWidth];",
    );
    assert!(
        sides[0].as_f64() <= sides[2].as_f64() && sides[1].as_f64() <= sides[2].as_f64(),
        "B's right edge, the page's width, the window's: {sides}"
    );
    if let Some(path) = std::env::var_os("ACTLAB_SCREENSHOT_NARROW") {
        std::fs::write(path, narrow.screenshot()).unwrap();
    }
    drop(narrow);
    drop(driver);
    drop(server);
}

/// Clicks run B's picture at `(fx, fy)` of its width and height (`shift`:
/// the other class); returns the data coordinates the click stands for.
fn click_picture(session: &Session, fx: f64, fy: f64, shift: bool) -> Value {
    session.execute(&format!(
        "const canvas = document.querySelector('#run-B .surface');
         const box = canvas.getBoundingClientRect();
         const [[x1lo, x1hi], [x2lo, x2hi]] = page.lab.points.bounds;
         canvas.dispatchEvent(new MouseEvent('click', {{ bubbles: true, shiftKey: {shift},
           clientX: box.left + canvas.clientLeft + {fx} * canvas.clientWidth,
           clientY: box.top + canvas.clientTop + {fy} * canvas.clientHeight }}));
         return [x1lo + {fx} * (x1hi - x1lo), x2hi - {fy} * (x2hi - x2lo)];"
    ))
}

/// The lab's id, its points' count, the first point and the set chosen.
const OWN_POINTS: &str =
    "return page.lab ? [page.lab.id, page.lab.points.rows.length, page.lab.points.rows[0],
    document.querySelector('#data-kind').value, document.querySelector('#own-note').textContent,
    page.lab.points.own] : null;";

#[test]
fn in_chromium_an_uploaded_csv_trains_and_clicked_points_join_the_data() {
    let Some((chromium, driver_path)) =
        needed_or_skip("ACTLAB_REQUIRE_BROWSER", "the browser test", browser())
    else {
        return;
    };
    let server = LabServer::start(&[]);
    let driver = Driver::start(&driver_path);
    let session = driver.session(&chromium, (1400, 1000));
    session.goto(&server.url);
    wait_for_default_pair(&session);
    let first = session.execute(OWN_POINTS);
    // A click on a generated set's picture: its points become your data, one more.
    let at = click_picture(&session, 0.9, 0.1, false);
    let clicked = wait_for(&session, "a lab with the clicked point", OWN_POINTS, |v| {
        v.is_array() && v[0] != first[0] && v[5] == json!(true)
    });
    assert_eq!(clicked[1], 401, "{clicked}");
    assert_eq!(clicked[3], "csv", "{clicked}");
    // Within a pixel (a mouse event's position is whole pixels; the box is ~2.4 wide).
    for (got, wanted) in clicked[2].as_array().unwrap().iter().zip([&at[0], &at[1]]) {
        assert!(
            (got.as_f64().unwrap() - wanted.as_f64().unwrap()).abs() < 0.01,
            "{clicked} at {at}"
        );
    }
    assert_eq!(clicked[2][2], 1.0, "class 1 by default: {clicked}");
    assert!(
        clicked[4]
            .as_str()
            .unwrap()
            .starts_with("circle points: 401 rows"),
        "{clicked}"
    );
    // Shift-click: the other class.
    click_picture(&session, 0.1, 0.9, true);
    let shifted = wait_for(&session, "the shift-clicked point", OWN_POINTS, |v| {
        v.is_array() && v[0] != clicked[0] && v[1] == 402
    });
    assert_eq!(shifted[2][2], 0.0, "{shifted}");

    // An upload the reader refuses: its one-line message in the page.
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("bad.csv");
    std::fs::write(&bad, "a,b,label\n0.1,0.2,1\n0.3,abc,0\n").unwrap();
    session.send_keys("#data-file", bad.to_str().unwrap());
    let error = wait_for(
        &session,
        "the reader's message",
        "const box = document.querySelector('#error'); return box.hidden ? '' : box.textContent;",
        |text| text.as_str().is_some_and(|t| !t.is_empty()),
    );
    assert_eq!(error, "bad.csv: row 3, column 2 (b): `abc` is not a number");
    // A good one: drawn, trained, relu ahead of identity.
    let ring = files.path().join("ring.csv");
    std::fs::write(&ring, crate::serve::ring_csv(300)).unwrap();
    session.send_keys("#data-file", ring.to_str().unwrap());
    let uploaded = wait_for(&session, "the uploaded data", OWN_POINTS, |v| {
        v.is_array() && v[1] == 300
    });
    assert!(
        uploaded[4]
            .as_str()
            .unwrap()
            .starts_with("ring.csv: 300 rows, 2 feature columns and a target"),
        "{uploaded}"
    );
    session.execute(
        "const speed = document.querySelector('#speed'); speed.value = '0';
         speed.dispatchEvent(new Event('change'));",
    );
    session.click("#start");
    let accuracy = wait_for(
        &session,
        "both runs on the upload to finish",
        &format!(
            "if (!['A', 'B'].every((r) => page.runs[r].view.state === 'finished'))
               return ['A', 'B'].map((r) => page.runs[r].view.state).join(' ');
             {ACCURACIES}"
        ),
        |v| v.is_array(),
    );
    let (identity, relu) = (accuracy[0].as_f64().unwrap(), accuracy[1].as_f64().unwrap());
    assert!(relu >= 0.9 && relu > identity + 0.2, "{accuracy}");
    assert!(
        session
            .execute("return document.querySelector('#run-B .command').textContent;")
            .as_str()
            .unwrap()
            .contains("/config.toml"),
    );
    if let Some(path) = std::env::var_os("ACTLAB_OWN_SHOT") {
        std::fs::write(path, session.screenshot()).unwrap();
    }
    // One feature column: a 1-D fit over the data's own range, and a click
    // adds the point (x, y) under the mouse.
    let wave = files.path().join("wave.csv");
    let rows: String = (0..120)
        .map(|i| {
            let x = -3.0 + 6.0 * f64::from(i) / 119.0;
            format!("{x:.4},{:.4}\n", (2.0 * x).sin())
        })
        .collect();
    std::fs::write(&wave, format!("t,signal\n{rows}")).unwrap();
    session.send_keys("#data-file", wave.to_str().unwrap());
    let line = wait_for(
        &session,
        "the 1-D upload",
        "return page.lab && page.lab.points.range ? [page.lab.points.rows.length, page.lab.points.range,
           document.querySelector('#loss').value, page.lab.points.inputs,
           document.querySelector('#click-classes').hidden] : null;",
        |v| v.is_array() && v[0] == 120,
    );
    assert_eq!(line[2], "mse", "targets that are values: a fit: {line}");
    assert_eq!(line[3], json!(["t"]), "{line}");
    assert_eq!(line[4], true, "no classes to choose for a fit: {line}");
    assert!(
        line[1][0].as_f64().unwrap() < -3.0 && line[1][1].as_f64().unwrap() > 3.0,
        "{line}"
    );
    session.click("#start");
    wait_for(
        &session,
        "the fit to finish",
        "return ['A', 'B'].every((r) => page.runs[r].view.state === 'finished');",
        |done| done == &json!(true),
    );
    session.execute(
        "const canvas = document.querySelector('#run-B .surface'); const box = canvas.getBoundingClientRect();
         canvas.dispatchEvent(new MouseEvent('click', { bubbles: true,
           clientX: box.left + canvas.clientLeft + 0.5 * canvas.clientWidth,
           clientY: box.top + canvas.clientTop + 0.2 * canvas.clientHeight }));",
    );
    let before = session.execute("return page.lab.id;");
    let added = wait_for(&session, "the clicked 1-D point", OWN_POINTS, |v| {
        v.is_array() && v[0] != before && v[1] == 121
    });
    assert_eq!(added[2].as_array().unwrap().len(), 2, "(x, y): {added}");
    if let Some(path) = std::env::var_os("ACTLAB_OWN_SHOT_1D") {
        std::fs::write(path, session.screenshot()).unwrap();
    }
    drop(session);
    drop(driver);
    drop(server);
}
