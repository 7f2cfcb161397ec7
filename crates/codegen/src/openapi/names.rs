//! Component names that stay distinct in every generator's naming.
//!
//! Client generators turn component names into class names by dropping separators
//! and changing case (`user_form`, `user.form` and `userForm` all become `UserForm`),
//! so two names that differ only there make duplicate classes. A name is taken only
//! when its folded form (letters and digits, lower case) is free; otherwise `_2`,
//! `_3`... is appended.

use std::collections::HashSet;

#[derive(Debug, Default)]
pub(super) struct Names {
    folded: HashSet<String>,
}

impl Names {
    /// `preferred`, or the first free `<preferred>_<n>`.
    pub(super) fn claim(&mut self, preferred: &str) -> String {
        let mut name = preferred.to_string();
        let mut n = 1;
        while !self.folded.insert(fold(&name)) {
            n += 1;
            name = format!("{preferred}_{n}");
        }
        name
    }
}

/// `User_Form.v2` → `userformv2`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A component name part from a wire value: characters other than letters, digits,
/// `.`, `-` and `_` become `_`.
pub(super) fn clean(wire: &str) -> String {
    wire.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_fold_alike_get_a_suffix() {
        let mut names = Names::default();
        assert_eq!(names.claim("user_form"), "user_form");
        assert_eq!(names.claim("userForm"), "userForm_2");
        assert_eq!(names.claim("user.form"), "user.form_3");
        assert_eq!(names.claim("user"), "user");
    }
}
