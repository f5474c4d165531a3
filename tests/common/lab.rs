//! A `train serve` on a free port for the live lab's tests, and a small
//! HTTP client for it (ureq, no TLS: everything is on 127.0.0.1).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::train_bin;

/// A running `train serve --port 0`, stopped (SIGTERM) when dropped.
pub struct LabServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
    /// The folder the server keeps its runs in, as it printed it.
    pub runs_dir: String,
    /// The token of the printed URL (a server off loopback prints one).
    pub token: Option<String>,
    agent: ureq::Agent,
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The request of a small, quick pair on `circle`: identity and relu.
pub fn quick_pair(epochs: usize, speed: f64) -> Value {
    json!({
        "shared": { "data.samples": 200, "training.epochs": epochs },
        "runs": [ { "model.activation": "identity" }, { "model.activation": "relu" } ],
        "speed": speed,
    })
}

impl LabServer {
    /// Starts `train serve --port 0 ARGS` and reads the address it prints.
    pub fn start(args: &[&str]) -> Self {
        let mut child = train_bin()
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("train serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let printed = first
            .trim()
            .strip_prefix("Activation Lab on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
        let (url, token) = match printed.split_once("/?token=") {
            Some((url, token)) => (url.to_string(), Some(token.to_string())),
            None => (printed.to_string(), None),
        };
        // A server on every address is reached here through loopback only.
        let url = url.replace("//0.0.0.0:", "//127.0.0.1:");
        let mut second = String::new();
        stdout.read_line(&mut second).unwrap();
        let runs_dir = second
            .trim()
            .rsplit_once("runs live in ")
            .map(|(_, dir)| dir.to_string())
            .unwrap_or_default();
        // Keep draining stdout so that the server never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Self {
            child,
            url,
            runs_dir,
            token,
            agent,
        }
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the server answers");
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        Reply {
            status: response.status().as_u16(),
            body: response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_vec()
                .unwrap(),
            headers,
        }
    }

    /// The token header's value, as the page sends it ("" without one).
    fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::reply(
            self.agent
                .get(format!("{}{path}", self.url))
                .header("x-lab-token", self.token())
                .call(),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, &body.to_string())
    }

    pub fn post_raw(&self, path: &str, body: &str) -> Reply {
        Self::reply(
            self.agent
                .post(format!("{}{path}", self.url))
                .header("content-type", "application/json")
                .header("x-lab-token", self.token())
                .send(body),
        )
    }

    pub fn delete(&self, path: &str) -> Reply {
        Self::reply(
            self.agent
                .delete(format!("{}{path}", self.url))
                .header("x-lab-token", self.token())
                .call(),
        )
    }

    /// Sends `request` (a whole HTTP/1.1 request, headers as given, so that
    /// Host and Origin can be anything) and reads the status and body.
    pub fn raw(&self, request: &str) -> (u16, String) {
        use std::io::Write;
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("the lab accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        // Written beside the read: a server may answer (413) before it has
        // read a large body, and stop reading it.
        let mut writer = stream.try_clone().unwrap();
        let request = request.to_string();
        let written = std::thread::spawn(move || {
            let _ = writer.write_all(request.as_bytes());
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let _ = written.join();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Creates a lab, asserting it was created; its snapshot.
    pub fn create(&self, request: &Value) -> Value {
        let reply = self.post("/api/labs", request);
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()
    }

    /// Sends a control action to every run, asserting it was taken.
    pub fn control(&self, id: &str, body: Value) {
        let reply = self.post(&format!("/api/labs/{id}/control"), &body);
        assert_eq!(reply.status, 204, "{body}: {}", reply.text());
    }

    /// Polls the lab's snapshot until `done` holds for it (60 s at most).
    pub fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let snapshot = self.get(&format!("/api/labs/{id}")).json();
            if done(&snapshot) {
                return snapshot;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last snapshot's runs: {}",
                summary(&snapshot)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens the lab's event stream: each `data:` line's JSON, as it comes.
    pub fn events(&self, id: &str) -> EventStream {
        let response = self
            .agent
            .get(format!(
                "{}/api/labs/{id}/events?token={}",
                self.url,
                self.token()
            ))
            .call()
            .expect("the event stream opens");
        assert_eq!(response.status().as_u16(), 200);
        EventStream {
            lines: BufReader::new(Box::new(response.into_body().into_reader())),
        }
    }
}

impl Drop for LabServer {
    /// SIGTERM, as a user's Ctrl-C; a server that does not stop in time is
    /// killed, and the test that dropped it fails.
    fn drop(&mut self) {
        super::send_signal(&self.child, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                if !std::thread::panicking() {
                    panic!("train serve did not stop within 20 s of SIGTERM");
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Server-Sent Events, one JSON value per event.
pub struct EventStream {
    lines: BufReader<Box<dyn Read + Send>>,
}

impl Iterator for EventStream {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if let Some(data) = line.strip_prefix("data:") {
                return Some(serde_json::from_str(data.trim()).expect("events carry JSON"));
            }
        }
    }
}

/// Each run's state and epoch, for failure messages.
pub fn summary(snapshot: &Value) -> String {
    snapshot["runs"]
        .as_array()
        .map(|runs| {
            runs.iter()
                .map(|run| format!("{} {} epoch {}", run["name"], run["state"], run["epoch"]))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| snapshot.to_string())
}

/// Whether every run of the snapshot is in `state`.
pub fn all_in(snapshot: &Value, state: &str) -> bool {
    snapshot["runs"]
        .as_array()
        .is_some_and(|runs| runs.iter().all(|run| run["state"] == state))
}
