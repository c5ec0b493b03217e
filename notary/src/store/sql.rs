//! Multi-row statements: their placeholders, and their text as each database binds it best.
//!
//! The multi-row statements of the store are built only from fixed text and numbered
//! placeholders (`AssertSqlSafe`); every value is bound.

/// Rows per multi-row statement: well under both engines' limits on bound values.
pub(super) const ROWS_PER_STATEMENT: usize = 100;

/// A dynamic statement for `conn`. On SQLite its `$n` placeholders (numbered in bind order)
/// become anonymous `?`: SQLite binds those without a name look-up per parameter, which is
/// linear in the statement's parameter count (quadratic for a hundred-row insert).
pub(super) fn dynamic_sql(conn: &sqlx::AnyConnection, sql: String) -> sqlx::AssertSqlSafe<String> {
    if conn.backend_name() != "SQLite" {
        return sqlx::AssertSqlSafe(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    sqlx::AssertSqlSafe(out)
}

/// `($1, $2, …), (…)`: `rows` groups of `cols` numbered placeholders.
pub(super) fn values_clause(rows: usize, cols: usize) -> String {
    values_clause_from(1, rows, cols)
}

/// As [`values_clause`], numbered from `$from`.
pub(super) fn values_clause_from(from: usize, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(from + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// `$1, $2, …, $n`, numbered from `from`.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
