//! A user's CSV file of numbers; errors name the file, row and column.

use std::path::Path;

use super::Dataset;
use crate::config::TargetColumn;
use crate::error::UserError;

/// What a CSV file's first row was read as, and whether that was decided
/// from the file or set by the user: summaries say which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderDecision {
    /// The first row is a header (names), not data.
    pub header: bool,
    /// Decided from the file (nothing set): a first row with a cell that is
    /// no number is a header, as the live lab decides for an upload.
    pub detected: bool,
}

impl HeaderDecision {
    /// One phrase for a summary, e.g. "no header row (detected: ...)".
    pub fn describe(self) -> &'static str {
        match (self.header, self.detected) {
            (true, true) => "first row read as a header (detected: a cell in it is no number)",
            (false, true) => "no header row (detected: the first row holds only numbers)",
            (true, false) => "first row read as a header (as set)",
            (false, false) => "no header row (as set)",
        }
    }
}

/// A numeric CSV file: optional header names and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The header row, when the file has one.
    pub names: Option<Vec<String>>,
    /// How its first row was read.
    pub header: HeaderDecision,
    /// Columns per row.
    pub columns: usize,
    /// `rows * columns` values.
    pub values: Vec<f32>,
}

impl Table {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.values.len() / self.columns.max(1)
    }

    /// Splits off column `target` as the targets; the rest are features.
    pub fn into_dataset(self, target: usize) -> Dataset {
        let mut x = Vec::with_capacity(self.values.len());
        let mut y = Vec::with_capacity(self.rows());
        for (index, value) in self.values.into_iter().enumerate() {
            if index % self.columns == target {
                y.push(value);
            } else {
                x.push(value);
            }
        }
        Dataset {
            features: self.columns - 1,
            x,
            y,
        }
    }

    /// Keeps every column as a feature; the targets are left empty.
    pub fn into_features(self) -> Dataset {
        Dataset {
            features: self.columns,
            x: self.values,
            y: Vec::new(),
        }
    }
}

/// Reads a CSV file of numbers; every row must have as many columns as the
/// first. Errors name the file, the row (as a reader counts lines) and the
/// column.
/// `header`: whether the first row is a header; `None` detects it.
pub fn read_table(path: &Path, header: Option<bool>) -> Result<Table, UserError> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|error| {
        UserError::new(format!(
            "cannot read data file {shown}: {}",
            crate::error::describe_io_error(&error)
        ))
    })?;
    let limit = read_limit(path, &file, crate::memory::available())?;
    parse_table(Bounded::new(file, limit), &shown.to_string(), header)
}

/// Reads CSV text of numbers from `source`, which errors call `shown`:
/// the same rules and messages as a file (a page's upload is read so).
/// `header`: whether the first row is a header; `None` detects it (a cell
/// in it that is no number makes it one).
pub fn parse_table(
    source: impl std::io::Read,
    shown: &str,
    header: Option<bool>,
) -> Result<Table, UserError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(source);
    let mut records = reader.records();
    let first = match records.next() {
        Some(first) => first
            .map_err(|error| UserError::new(format!("{shown}: row 1: {}", csv_reason(&error))))?,
        None => return Err(UserError::new(format!("{shown}: the file is empty"))),
    };
    let decision = HeaderDecision {
        // A name makes a header; an empty cell is a missing value, not a name.
        header: header.unwrap_or_else(|| {
            first
                .iter()
                .any(|cell| !cell.is_empty() && cell.parse::<f32>().is_err())
        }),
        detected: header.is_none(),
    };
    let names: Option<Vec<String>> = decision
        .header
        .then(|| first.iter().map(str::to_string).collect());
    let leading = (!decision.header).then_some(Ok(first));
    let mut columns: Option<usize> = names.as_ref().map(Vec::len);
    let mut values = Vec::new();
    for (index, record) in leading.into_iter().chain(records).enumerate() {
        // Rows are counted as a person reading the file would: line 1 is the header.
        let row_number = index + 1 + usize::from(decision.header);
        let record = record.map_err(|error| {
            UserError::new(format!("{shown}: row {row_number}: {}", csv_reason(&error)))
        })?;
        let width = *columns.get_or_insert(record.len());
        if record.len() != width {
            return Err(UserError::new(format!(
                "{shown}: row {row_number} has {} columns, expected {width}",
                record.len()
            )));
        }
        for (column, cell) in record.iter().enumerate() {
            let name = names
                .as_ref()
                .map(|n| format!(" ({})", n[column]))
                .unwrap_or_default();
            let value: f32 = cell.parse().map_err(|_| {
                UserError::new(format!(
                    "{shown}: row {row_number}, column {}{name}: `{cell}` is not a number",
                    column + 1
                ))
            })?;
            if !value.is_finite() {
                return Err(UserError::new(format!(
                    "{shown}: row {row_number}, column {}{name}: `{cell}` is not finite",
                    column + 1
                )));
            }
            values.push(value);
        }
    }
    let Some(columns) = columns else {
        return Err(UserError::new(format!("{shown}: the file is empty")));
    };
    if values.is_empty() {
        return Err(UserError::new(format!("{shown}: no data rows")));
    }
    Ok(Table {
        names,
        header: decision,
        columns,
        values,
    })
}

/// The most a data file that is not a regular file (a pipe, `/dev/zero`)
/// may give: its size cannot be checked before it is read.
pub const STREAM_LIMIT: u64 = 256 << 20;

/// How many bytes of `file` may be read: a regular file whole, once its
/// size fits the memory `available` (its values as float32 take at most
/// twice its bytes: a value is at least a digit and a comma); anything else
/// up to [`STREAM_LIMIT`].
fn read_limit(
    path: &Path,
    file: &std::fs::File,
    available: Option<(u64, &str)>,
) -> Result<u64, UserError> {
    let metadata = file.metadata().map_err(|error| {
        UserError::new(format!("cannot read data file {}: {error}", path.display()))
    })?;
    if !metadata.is_file() {
        return Ok(STREAM_LIMIT);
    }
    let needed = metadata.len().saturating_mul(2);
    match available {
        Some((available, source)) if needed > available => Err(UserError::new(format!(
            "{}: a file of {} MiB needs up to {} MiB as numbers but {} MiB is available ({source})",
            path.display(),
            metadata.len() >> 20,
            needed >> 20,
            available >> 20
        ))),
        _ => Ok(u64::MAX),
    }
}

/// A reader that fails once more than `limit` bytes came through.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R> Bounded<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: limit,
            limit,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.left = self.left.checked_sub(read as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "not a regular file, and it gave more than {} MiB (the most read from a pipe or \
                 device); save the data to a file",
                self.limit >> 20
            ))
        })?;
        Ok(read)
    }
}

/// Reads a numeric CSV file; every column but the target is a feature.
pub fn read_csv(
    path: &Path,
    target: Option<&TargetColumn>,
    header: Option<bool>,
) -> Result<(Dataset, HeaderDecision), UserError> {
    let shown = path.display().to_string();
    let table = read_table(path, header)?;
    let decision = table.header;
    Ok((table_dataset(table, target, &shown)?, decision))
}

/// A table's target column split off: the rest are the features.
pub fn table_dataset(
    table: Table,
    target: Option<&TargetColumn>,
    shown: &str,
) -> Result<Dataset, UserError> {
    if table.columns < 2 {
        return Err(UserError::new(format!(
            "{shown}: needs at least 2 columns (features and a target), found {}",
            table.columns
        )));
    }
    let target = target_index(&table, target, shown)?;
    Ok(table.into_dataset(target))
}

/// The 0-based column `target` names in `table` (the last one when `None`).
pub fn target_index(
    table: &Table,
    target: Option<&TargetColumn>,
    shown: &str,
) -> Result<usize, UserError> {
    resolve_target(target, table.names.as_deref(), table.columns, shown)
}

fn resolve_target(
    target: Option<&TargetColumn>,
    names: Option<&[String]>,
    width: usize,
    shown: &str,
) -> Result<usize, UserError> {
    match target {
        None => Ok(width - 1),
        Some(TargetColumn::Index(index)) if *index < width => Ok(*index),
        Some(TargetColumn::Index(index)) => Err(UserError::new(format!(
            "{shown}: target column index {index} is out of range (the file has {width} columns, 0-based)"
        ))),
        Some(TargetColumn::Name(name)) => match names {
            Some(names) => names.iter().position(|n| n == name).ok_or_else(|| {
                UserError::new(format!(
                    "{shown}: no column named `{name}` in the header ({})",
                    names.join(", ")
                ))
            }),
            None => Err(UserError::new(format!(
                "{shown}: target `{name}` is a name but the file is read without a header row (data.header = false, or its first row holds only numbers); give a 0-based index"
            ))),
        },
    }
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(io) => crate::error::describe_io_error(io),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} columns, expected {expected_len}"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_device_is_read_up_to_the_limit_and_a_file_too_large_for_memory_is_refused() {
        use std::io::Read;
        let mut bounded = Bounded::new(std::io::repeat(b'0'), 1000);
        let error = std::io::copy(&mut bounded.by_ref(), &mut std::io::sink()).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let zero = std::fs::File::open("/dev/zero").unwrap();
        assert_eq!(
            read_limit(Path::new("/dev/zero"), &zero, None).unwrap(),
            STREAM_LIMIT
        );

        let file = write("1,2\n3,4\n");
        let opened = std::fs::File::open(file.path()).unwrap();
        assert_eq!(
            read_limit(file.path(), &opened, Some((1 << 30, "test"))).unwrap(),
            u64::MAX
        );
        let error = read_limit(file.path(), &opened, Some((10, "test"))).unwrap_err();
        assert!(error.to_string().contains("is available (test)"), "{error}");
    }

    fn write(contents: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        file
    }

    #[test]
    fn csv_round_trips_with_named_target() {
        let file = write("a,y,b\n1,2,3\n4,5,6\n");
        let target = TargetColumn::Name("y".into());
        let data = read_csv(file.path(), Some(&target), Some(true)).unwrap().0;
        assert_eq!(data.features, 2);
        assert_eq!(data.x, vec![1.0, 3.0, 4.0, 6.0]);
        assert_eq!(data.y, vec![2.0, 5.0]);
        let file = write("1,2,3\n4,5,6\n");
        let data = read_csv(file.path(), Some(&TargetColumn::Index(0)), Some(false))
            .unwrap()
            .0;
        assert_eq!((data.x, data.y), (vec![2.0, 3.0, 5.0, 6.0], vec![1.0, 4.0]));
    }

    #[test]
    fn a_header_is_detected_unless_set() {
        let named = write("a,b,y\n1,2,3\n4,5,6\n");
        let bare = write("1,2,3\n4,5,6\n");
        let read = |file: &tempfile::NamedTempFile, header| {
            let (data, decision) = read_csv(file.path(), None, header).unwrap();
            (data.rows(), decision.header, decision.detected)
        };
        assert_eq!(read(&named, None), (2, true, true));
        assert_eq!(read(&bare, None), (2, false, true));
        assert_eq!(read(&bare, Some(true)), (1, true, false));
        let err = read_csv(named.path(), None, Some(false))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("row 1, column 1: `a` is not a number"),
            "{err}"
        );
        // A name in the first row is a header, numbers beside it or not.
        let mixed = write("x1,2\n1,2\n");
        assert_eq!(read(&mixed, None), (1, true, true));
        // A missing value is no name: the row is data, and refused as such.
        let gap = write("1,\n1,2\n");
        let err = read_csv(gap.path(), None, None).unwrap_err().to_string();
        assert!(
            err.ends_with("row 1, column 2: `` is not a number"),
            "{err}"
        );
        let empty = write("");
        let err = read_csv(empty.path(), None, None).unwrap_err().to_string();
        assert!(err.ends_with("the file is empty"), "{err}");
    }

    #[test]
    fn malformed_csv_is_rejected_naming_row_and_column() {
        let file = write("a,b,y\n1,2,3\n4,x,6\n");
        let err = read_csv(file.path(), None, Some(true))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("row 3, column 2 (b): `x` is not a number"),
            "{err}"
        );
        let file = write("a,b,y\n1,2,3\n4,5\n");
        let err = read_csv(file.path(), None, Some(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 3 has 2 columns, expected 3"), "{err}");
        let file = write("a,b,y\n");
        let err = read_csv(file.path(), None, Some(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no data rows"), "{err}");
        let err = read_csv(
            file.path(),
            Some(&TargetColumn::Name("z".into())),
            Some(true),
        );
        assert!(err.is_err());
        let file = write("a,b,y\n1,2,3\n");
        let err = read_csv(
            file.path(),
            Some(&TargetColumn::Name("z".into())),
            Some(true),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no column named `z`"), "{err}");
        let err = read_csv(Path::new("/no/such.csv"), None, Some(true))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "cannot read data file /no/such.csv: no such file");
    }
}
