//! English pluralisation of type names, for default plurals and resource paths.
//!
//! apibuilder's `Text.pluralize`: a few known plurals are kept, names already
//! ending in `es`, `ts` or `data` are kept, and everything else goes through an
//! English inflector (Atteo's Evo Inflector). This reproduces that for
//! identifiers: irregular and uncountable nouns, then suffix rules. Only the last
//! word of a `snake_case` name is inflected (`user_status` -> `user_statuses`).

const UNCOUNTABLE: &[&str] = &[
    "bison",
    "buffalo",
    "cod",
    "data",
    "deer",
    "duck",
    "equipment",
    "fish",
    "headquarters",
    "information",
    "jeans",
    "metadata",
    "money",
    "moose",
    "news",
    "people",
    "pike",
    "plankton",
    "police",
    "rice",
    "salmon",
    "series",
    "sheep",
    "species",
    "squid",
    "swine",
    "trout",
    "tuna",
];

const IRREGULAR: &[(&str, &str)] = &[
    ("child", "children"),
    ("datum", "data"),
    ("epoch", "epochs"),
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

/// Consonant + `o` words that take a plain `s` (the inflector's exception list,
/// plus common technical words); other consonant + `o` words take `es`.
const O_TO_OS: &[&str] = &[
    "albino", "auto", "canto", "casino", "combo", "demo", "disco", "dynamo", "ego", "euro",
    "fiasco", "ghetto", "halo", "info", "kilo", "lasso", "logo", "macro", "memo", "micro", "pesto",
    "photo", "piano", "pro", "promo", "repo", "solo", "soprano", "tempo", "todo", "typo", "zero",
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
    // apibuilder keeps these as they are (they are taken to be plural already).
    if ["es", "ts", "data"].iter().any(|s| lower.ends_with(s)) {
        return word.to_string();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(s, _)| *s == lower) {
        return (*plural).to_string();
    }
    if F_TO_VES.contains(&lower.as_str()) {
        let stem = word.trim_end_matches('e');
        return format!("{}ves", &stem[..stem.len() - 1]);
    }
    let is_vowel = |c: char| "aeiou".contains(c);
    let before_last = lower.chars().rev().nth(1);
    if lower.ends_with('o') && !O_TO_OS.contains(&lower.as_str()) {
        return match before_last {
            Some(c) if !is_vowel(c) => format!("{word}es"),
            _ => format!("{word}s"),
        };
    }
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
            ("video", "videos"),
            ("potato", "potatoes"),
            ("types", "types"),
            ("user_data", "user_data"),
            ("epoch", "epochs"),
            ("duck", "duck"),
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
