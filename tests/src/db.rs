//! Which database a test runs against. SQLite is a file in the test's data dir; Postgres is a
//! fresh database in the throw-away cluster `make test` starts (`.ci/with-postgres.sh`).

use sqlx::Connection;

/// A database engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database URL for a new, empty database of `db` (`None`: the server's default SQLite file).
///
/// # Panics
/// For Postgres when `PAYBRIDGE_TEST_POSTGRES_URL` is not set — run the tests with `make test`
/// (or `.ci/with-postgres.sh cargo nextest run`).
pub async fn fresh_database(db: Db) -> Option<String> {
    match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let admin = std::env::var("PAYBRIDGE_TEST_POSTGRES_URL").expect(
                "PAYBRIDGE_TEST_POSTGRES_URL is not set: run Postgres tests through `make test` or `.ci/with-postgres.sh cargo nextest run`",
            );
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test cluster");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            Some(format!("{base}/{name}"))
        }
    }
}

/// Runs the listed async test bodies (`async fn name(db: Db)`) once per database, as
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::db::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name($crate::db::Db::Postgres).await } )*
        }
    };
}
