//! The page, embedded in the binary (no CDN, nothing to install): the
//! readable sources under `crates/train/web/`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::lab::LabError;

/// `(name, content type, contents)` of every file the page is made of.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/index.html")),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/app.js")),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/favicon.svg")),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/style.css")),
    ),
];

/// The embedded file `name` (or `palette.js`, the figures' palette), or a 404.
pub fn page(name: &str) -> Response {
    if name == "palette.js" {
        return (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            train::plot::palette::page_script(),
        )
            .into_response();
    }
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, contents)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *contents,
        )
            .into_response(),
        None => LabError {
            status: 404,
            message: format!("no page `{name}`"),
        }
        .into_response(),
    }
}
