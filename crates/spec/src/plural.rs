//! English pluralisation of type names, for default plurals and resource paths.
//!
//! apibuilder pluralises with an English inflector (Atteo's Evo Inflector); this
//! covers the same ground for identifiers: irregular and uncountable nouns, then
//! suffix rules. Only the last word of a `snake_case` name is inflected
//! (`user_status` -> `user_statuses`).

const UNCOUNTABLE: &[&str] = &[
    "bison",
    "buffalo",
    "cod",
    "data",
    "deer",
    "equipment",
    "fish",
    "headquarters",
    "information",
    "jeans",
    "metadata",
    "money",
    "moose",
    "news",
    "police",
    "rice",
    "salmon",
    "series",
    "sheep",
    "species",
    "swine",
    "trout",
    "tuna",
];

const IRREGULAR: &[(&str, &str)] = &[
    ("child", "children"),
    ("datum", "data"),
    ("foot", "feet"),
    ("goose", "geese"),
    ("louse", "lice"),
    ("man", "men"),
    ("metadatum", "metadata"),
    ("mouse", "mice"),
    ("ox", "oxen"),
    ("person", "people"),
    ("tooth", "teeth"),
    ("woman", "women"),
];

const F_TO_VES: &[&str] = &[
    "calf", "elf", "half", "knife", "leaf", "life", "loaf", "self", "sheaf", "shelf", "thief",
    "wife", "wolf",
];

const O_TO_OES: &[&str] = &[
    "echo", "embargo", "hero", "potato", "tomato", "torpedo", "veto",
];

/// The plural of a (snake_case) type name.
pub fn pluralize(name: &str) -> String {
    let split = name.rfind(['_', '-', ' ']).map_or(0, |i| i + 1);
    let (head, word) = name.split_at(split);
    format!("{head}{}", pluralize_word(word))
}

fn pluralize_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if word.is_empty() || UNCOUNTABLE.contains(&lower.as_str()) {
        return word.to_string();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(s, _)| *s == lower) {
        return (*plural).to_string();
    }
    if F_TO_VES.contains(&lower.as_str()) {
        let stem = word.trim_end_matches('e');
        return format!("{}ves", &stem[..stem.len() - 1]);
    }
    if O_TO_OES.contains(&lower.as_str()) {
        return format!("{word}es");
    }
    let is_vowel = |c: char| "aeiou".contains(c);
    let before_last = lower.chars().rev().nth(1);
    if lower.ends_with('y') && before_last.is_some_and(|c| !is_vowel(c)) {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if lower.ends_with("is") && lower.len() > 3 {
        // analysis -> analyses, basis -> bases
        return format!("{}es", &word[..word.len() - 2]);
    }
    if lower.ends_with('z') && !lower.ends_with("zz") {
        return format!("{word}zes");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pluralises_like_apibuilder() {
        for (one, many) in [
            ("user", "users"),
            ("category", "categories"),
            ("status", "statuses"),
            ("user_status", "user_statuses"),
            ("address", "addresses"),
            ("box", "boxes"),
            ("match", "matches"),
            ("wish", "wishes"),
            ("key", "keys"),
            ("day", "days"),
            ("person", "people"),
            ("echo", "echoes"),
            ("photo", "photos"),
            ("leaf", "leaves"),
            ("knife", "knives"),
            ("analysis", "analyses"),
            ("quiz", "quizzes"),
            ("species", "species"),
            ("healthcheck", "healthchecks"),
            ("application_version", "application_versions"),
        ] {
            assert_eq!(pluralize(one), many, "{one}");
        }
    }
}
