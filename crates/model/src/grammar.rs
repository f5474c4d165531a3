//! One grammar for activations, used by flags, configs, sweeps and the page:
//!
//! - a name with optional parameters in parentheses: `relu`,
//!   `leaky_relu(0.2)`, `hardtanh(-1,1)` (commas inside parentheses separate
//!   parameters);
//! - `/` joins a per-layer combination, one name per hidden layer:
//!   `relu/tanh/identity`;
//! - commas outside parentheses separate alternatives (`compare
//!   --activations relu,leaky_relu(0.2),tanh`).

use crate::LayerActivations;
use crate::activation::ParseActivationError;

/// Splits `text` at the separator `separator` where it stands outside
/// parentheses; refuses unbalanced parentheses and empty items.
fn split_outside_parentheses(
    text: &str,
    separator: char,
) -> Result<Vec<&str>, ParseActivationError> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (index, character) in text.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    ParseActivationError::new(format!("`{text}` closes a `)` it never opened"))
                })?
            }
            c if c == separator && depth == 0 => {
                items.push(&text[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(ParseActivationError::new(format!(
            "`{text}` is missing a closing `)`"
        )));
    }
    items.push(&text[start..]);
    let items: Vec<&str> = items.into_iter().map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(ParseActivationError::new(format!(
            "`{text}` has an empty item between `{separator}`s"
        )));
    }
    Ok(items)
}

/// The alternatives of a list: `relu,hardtanh(-1,1)` is `relu` and
/// `hardtanh(-1,1)`.
pub fn alternatives(text: &str) -> Result<Vec<&str>, ParseActivationError> {
    split_outside_parentheses(text, ',')
}

/// The per-layer names of a combination: `relu/tanh` is `relu` then `tanh`;
/// a single name is one item.
pub fn layers(text: &str) -> Result<Vec<&str>, ParseActivationError> {
    split_outside_parentheses(text, '/')
}

/// A name and its parameters: `hardtanh(-1, 1)` is `hardtanh` and
/// `["-1", "1"]`; `relu` has none.
pub fn name_and_parameters(text: &str) -> Result<(&str, Vec<&str>), ParseActivationError> {
    let text = text.trim();
    match text.split_once('(') {
        None => Ok((text, Vec::new())),
        Some((name, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| {
                ParseActivationError::new(format!("activation `{text}` is missing its closing `)`"))
            })?;
            let parameters = inner.split(',').map(str::trim).collect::<Vec<_>>();
            if parameters.iter().any(|p| p.is_empty()) {
                return Err(ParseActivationError::new(format!(
                    "activation `{text}` has an empty parameter"
                )));
            }
            Ok((name.trim(), parameters))
        }
    }
}

/// Parses a list of alternatives, each one activation for every hidden
/// layer or one per layer (`relu,relu/tanh`).
pub fn parse_list(text: &str) -> Result<Vec<LayerActivations>, ParseActivationError> {
    alternatives(text)?.into_iter().map(str::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_parentheses_are_parameters_outside_alternatives() {
        assert_eq!(
            alternatives("relu, hardtanh(-1,1),tanh").unwrap(),
            ["relu", "hardtanh(-1,1)", "tanh"]
        );
        assert_eq!(
            layers("relu/tanh/identity").unwrap(),
            ["relu", "tanh", "identity"]
        );
        assert_eq!(
            name_and_parameters("hardtanh(-1, 1)").unwrap(),
            ("hardtanh", vec!["-1", "1"])
        );
        assert_eq!(name_and_parameters("relu").unwrap(), ("relu", vec![]));
    }

    #[test]
    fn a_list_parses_each_alternative() {
        let list = parse_list("identity,leaky_relu(0.2),elu(0.5)").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].to_string(), "leaky_relu(0.2)");
    }

    #[test]
    fn broken_lists_say_what_is_wrong() {
        let message = |text: &str| parse_list(text).unwrap_err().to_string();
        assert_eq!(
            message("relu,,tanh"),
            "`relu,,tanh` has an empty item between `,`s"
        );
        assert_eq!(
            message("leaky_relu(0.2"),
            "`leaky_relu(0.2` is missing a closing `)`"
        );
        assert_eq!(message("relu)"), "`relu)` closes a `)` it never opened");
        assert_eq!(
            message("relu//tanh"),
            "`relu//tanh` has an empty item between `/`s"
        );
        let combos = parse_list("relu,relu/tanh").unwrap();
        assert_eq!(combos[1].to_string(), "relu/tanh");
        assert!(combos[0].is_single() && !combos[1].is_single());
    }
}
