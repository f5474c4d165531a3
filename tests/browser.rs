//! The live lab in a real browser: Debian's headless Chromium, driven through
//! chromedriver (WebDriver, fantoccini). Where no Chromium can be had the
//! test says why and passes, unless `ACTLAB_REQUIRE_BROWSER=1` (CI).
//!
//! `ACTLAB_SCREENSHOT=docs/lab.png` also saves the page, once both runs
//! have finished, for README.md (see "The live lab" there).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::common::lab::LabServer;
use crate::common::repo_root;

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

/// chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(path: &PathBuf) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `script` in the page and returns its value.
async fn js(client: &fantoccini::Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .expect("the script runs")
}

/// Polls `script` until `done` holds for its value (90 s at most).
async fn wait_for(
    client: &fantoccini::Client,
    what: &str,
    script: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let value = js(client, script).await;
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last: {value}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
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

#[test]
fn in_chromium_relu_overtakes_identity_on_the_circle_and_draws_its_surface() {
    let (chromium, driver_path) = match browser() {
        Ok(found) => found,
        Err(why) => {
            if std::env::var("ACTLAB_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("ACTLAB_REQUIRE_BROWSER=1 but {why}");
            }
            eprintln!("skipping the browser test: {why}");
            return;
        }
    };
    let server = LabServer::start(&[]);
    let driver = Driver::start(&driver_path);
    let screenshot = std::env::var_os("ACTLAB_SCREENSHOT").map(|path| repo_root().join(path));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // As root (CI) Chromium needs --no-sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1100"],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("chromedriver opens a Chromium session");
        client.goto(&server.url).await.unwrap();
        // The page makes its lab with the default pair.
        wait_for(
            &client,
            "the two panels",
            "return [...document.querySelectorAll('.run .activation')].map((e) => e.textContent);",
            |names| names == &json!(["identity", "relu"]),
        )
        .await;
        client
            .find(Locator::Css("#start"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let shown = wait_for(
            &client,
            "relu's accuracy to pass identity's",
            ACCURACIES,
            |a| match (a[0].as_f64(), a[1].as_f64()) {
                (Some(identity), Some(relu)) => relu > identity + 0.1,
                _ => false,
            },
        )
        .await;
        eprintln!("shown accuracies (identity, relu): {shown}");
        let surface = js(&client, SURFACE).await;
        assert!(
            surface[0].as_u64() >= Some(20) && surface[1].as_f64() >= Some(0.99),
            "the surface canvas is drawn (colours, painted share): {surface}"
        );
        if let Some(path) = screenshot {
            wait_for(
                &client,
                "both runs to finish",
                "return document.querySelector('#status').textContent;",
                |status| status == "finished / finished",
            )
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let png = client.screenshot().await.unwrap();
            std::fs::write(&path, png).unwrap();
            eprintln!("wrote {}", path.display());
        }
        client.close().await.unwrap();
    });
    drop(driver);
    drop(server);
}
