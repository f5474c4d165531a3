//! Who may drive the lab. A page on any other site can send requests to
//! `127.0.0.1`, and through DNS rebinding even read the answers; so, as
//! Jupyter does:
//!
//! - the `Host` header must name the address the lab listens on (for a
//!   loopback address `localhost`, `127.0.0.1` or `[::1]`, with the port),
//!   or a name given with `--allow-host`: a rebound name is refused;
//! - a request that changes state (POST, PUT, PATCH, DELETE) must carry an
//!   `Origin` that is the lab's own, or none (a command-line client), and a
//!   JSON body (`application/json`, which a cross-site form or a "simple"
//!   `fetch` cannot send without the browser asking first); a DELETE
//!   without a body is the one exception;
//! - when the lab listens on anything but loopback, every API request must
//!   carry the per-start token of the printed URL (header `x-lab-token`, or
//!   `?token=` for the event stream, which a browser opens without headers).
//!
//! Every refusal is a 403 with the usual `{"error": "..."}` body.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::lab::LabError;

/// The header the page sends its token in.
pub const TOKEN_HEADER: &str = "x-lab-token";

/// The lab's rules for one start of the server.
#[derive(Debug, Clone)]
pub struct Guard {
    /// `host:port` values (lower case) a request's `Host` may have.
    hosts: Vec<String>,
    /// Listening on every address (`0.0.0.0`, `::`): any IP literal with the
    /// port names this machine (a literal cannot be rebound).
    any_address: bool,
    port: u16,
    /// Required on API requests when not on loopback.
    token: Option<String>,
}

impl Guard {
    /// The rules for a server listening on `listen:port`; `allowed` are the
    /// `--allow-host` names (with or without a port).
    pub fn new(listen: IpAddr, port: u16, allowed: &[String], token: Option<String>) -> Self {
        let mut names: Vec<String> = Vec::new();
        if listen.is_loopback() || listen.is_unspecified() {
            names.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
        }
        if !listen.is_unspecified() {
            names.push(match listen {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        let mut hosts: Vec<String> = names.iter().map(|name| format!("{name}:{port}")).collect();
        for name in allowed {
            let name = name.trim().to_ascii_lowercase();
            if has_port(&name) {
                hosts.push(name);
            } else {
                // Behind a reverse proxy on the default port the Host has no port.
                hosts.push(format!("{name}:{port}"));
                hosts.push(name);
            }
        }
        Self {
            hosts,
            any_address: listen.is_unspecified(),
            port,
            token,
        }
    }

    /// The per-start token, when the lab needs one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether a request may go on; the refusal says why in one line.
    pub fn check(
        &self,
        method: &Method,
        headers: &HeaderMap,
        path: &str,
        query: Option<&str>,
    ) -> Result<(), String> {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase)
            .ok_or("the request names no Host")?;
        if !self.host_allowed(&host) {
            return Err(format!(
                "Host `{host}` is not this lab's address; open the address `train serve` printed \
                 (or start it with --allow-host {})",
                host.rsplit_once(':')
                    .map_or(host.as_str(), |(name, _)| name)
            ));
        }
        if changes_state(method) {
            if let Some(origin) = headers.get(header::ORIGIN) {
                let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
                if origin != format!("http://{host}") {
                    return Err(format!(
                        "cross-site request refused (Origin `{origin}` is not this lab's)"
                    ));
                }
            }
            let has_body = headers
                .get(header::CONTENT_LENGTH)
                .is_some_and(|length| length.as_bytes() != b"0")
                || headers.contains_key(header::TRANSFER_ENCODING);
            if (*method != Method::DELETE || has_body) && !is_json(headers) {
                return Err(format!(
                    "{method} needs a JSON body (content-type: application/json)"
                ));
            }
        }
        if let Some(token) = &self.token
            && path.starts_with("/api/")
        {
            let given = headers
                .get(TOKEN_HEADER)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
                .or_else(|| query_token(query));
            if !given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
                return Err(
                    "missing or wrong lab token: open the URL `train serve` printed (it carries \
                     ?token=...)"
                        .into(),
                );
            }
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        if self.hosts.iter().any(|allowed| allowed == host) {
            return true;
        }
        self.any_address
            && host.rsplit_once(':').is_some_and(|(name, port)| {
                port == self.port.to_string()
                    && name
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .is_ok()
            })
    }
}

/// The middleware: refuses what [`Guard::check`] refuses, with a 403.
pub async fn guard_requests(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let uri = request.uri();
    match guard.check(request.method(), request.headers(), uri.path(), uri.query()) {
        Ok(()) => next.run(request).await,
        Err(message) => LabError {
            status: 403,
            message,
        }
        .into_response(),
    }
}

/// A fresh token: 128 bits from the system's generator, as hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn changes_state(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// `host:port`, `[v6]:port`, but not a bare v6 literal.
fn has_port(host: &str) -> bool {
    match host.rsplit_once(':') {
        Some((name, port)) => {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']'))
        }
        None => false,
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
}

/// Compares without stopping at the first difference.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
