//! Reading a pack: each file parsed into its parts, its `include`s followed
//! (each file once, a cycle named), every syntax error gathered.

use super::*;

/// One pack file, parsed into its parts.
pub(super) struct ParsedFile {
    pub(super) file: SourceFile,
    pub(super) header: Option<RawHeader>,
    pub(super) policies: Vec<RawPolicy>,
    pub(super) rules: Vec<RawRule>,
    pub(super) reminders: Vec<RawReminder>,
}

pub(super) struct Reader<'a> {
    pub(super) source: &'a dyn PackSource,
    /// Included files first, so an including pack's rules follow theirs.
    pub(super) files: Vec<ParsedFile>,
    pub(super) seen: HashMap<String, ()>,
    pub(super) errors: Vec<PackError>,
}

impl Reader<'_> {
    pub(super) fn parse_tree(&mut self, file: SourceFile, stack: &mut Vec<String>) {
        self.seen.insert(file.name.clone(), ());
        stack.push(file.name.clone());
        let parsed = self.parse_file(file);
        if let Some(header) = &parsed.header {
            for include in &header.include {
                self.include(&parsed.file, include, stack);
            }
        }
        stack.pop();
        self.files.push(parsed);
    }

    pub(super) fn include(
        &mut self,
        from: &SourceFile,
        include: &Spanned<String>,
        stack: &mut Vec<String>,
    ) {
        match self.source.read(include.get_ref(), Some(from)) {
            Err(message) => {
                let message = format!("cannot include `{}`: {message}", include.get_ref());
                self.errors
                    .push(PackError::at(from, include.span(), message));
            }
            Ok(file) if stack.contains(&file.name) => {
                let message = format!(
                    "`{}` includes itself through {}",
                    file.name,
                    stack.join(" -> ")
                );
                self.errors
                    .push(PackError::at(from, include.span(), message));
            }
            Ok(file) if self.seen.contains_key(&file.name) => {}
            Ok(file) => self.parse_tree(file, stack),
        }
    }

    pub(super) fn parse_file(&mut self, file: SourceFile) -> ParsedFile {
        let text = file.text.clone();
        let mut parsed = ParsedFile {
            file,
            header: None,
            policies: Vec::new(),
            rules: Vec::new(),
            reminders: Vec::new(),
        };
        let (root, syntax) = DeTable::parse_recoverable(&text);
        if !syntax.is_empty() {
            for e in syntax {
                let span = e.span().unwrap_or(0..0);
                self.errors.push(PackError::at(
                    &parsed.file,
                    span,
                    e.message().trim().to_owned(),
                ));
            }
            return parsed;
        }
        let mut saw_header = false;
        for (key, value) in root.into_inner() {
            match key.get_ref().as_ref() {
                "pack" => {
                    saw_header = true;
                    parsed.header = self.part(&parsed.file, value);
                }
                "policy" => parsed.policies = self.parts(&parsed.file, "policy", value),
                "rule" => parsed.rules = self.parts(&parsed.file, "rule", value),
                "reminder" => parsed.reminders = self.parts(&parsed.file, "reminder", value),
                other => {
                    let message = format!(
                        "unknown section `{other}`: a pack has [pack], [[policy]], [[rule]] and [[reminder]]"
                    );
                    self.errors
                        .push(PackError::at(&parsed.file, key.span(), message));
                }
            }
        }
        if !saw_header {
            let message =
                "missing [pack] section: it names the pack, council, time zone and calendar";
            self.errors.push(PackError::at(&parsed.file, 0..0, message));
        }
        parsed
    }

    /// Each element of an array of tables, deserialized on its own so that one
    /// bad rule does not hide the errors of the next.
    pub(super) fn parts<T: for<'de> Deserialize<'de>>(
        &mut self,
        file: &SourceFile,
        name: &str,
        value: Spanned<DeValue<'_>>,
    ) -> Vec<T> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .filter_map(|item| self.part(file, item))
                .collect(),
            _ => {
                let message = format!("`{name}` must be an array of tables, written [[{name}]]");
                self.errors.push(PackError::at(file, span, message));
                Vec::new()
            }
        }
    }

    pub(super) fn part<T: for<'de> Deserialize<'de>>(
        &mut self,
        file: &SourceFile,
        value: Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(part) => Some(part),
            Err(e) => {
                let span = e.span().unwrap_or(span);
                self.errors
                    .push(PackError::at(file, span, e.message().trim().to_owned()));
                None
            }
        }
    }
}
