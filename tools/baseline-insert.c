/*
 * baseline-insert: the physical limit shiplog's ingest is measured against.
 *
 *     baseline-insert INPUT.ndjson DB
 *
 * Inserts every line of INPUT (NDJSON, without its newline) as one row of
 *
 *     CREATE TABLE events (id INTEGER PRIMARY KEY, doc BLOB NOT NULL)
 *
 * in a fresh SQLite file DB (deleted first, with its -wal/-shm), with nothing else done per
 * document: no parsing, hashing, compression or indexing. One prepared INSERT is reused,
 * 10,000 rows per transaction, PRAGMA journal_mode=WAL and synchronous=NORMAL (what shiplog
 * uses), default page cache. Empty lines are skipped. At the end the WAL is checkpointed
 * (inside the timing, as a closed database has paid for it) and one JSON line is printed:
 *
 *     {"rows": N, "seconds": S, "rows_per_second": R, "bytes": SIZE_OF_THE_DB_FILE}
 *
 * The input is read with getline() into one buffer that grows to the longest line and is
 * reused, behind a 1 MiB stdio buffer; rows are bound with SQLITE_STATIC (no copy).
 * Build with tools/build-baseline.
 */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_TRANSACTION 10000

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "baseline-insert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "baseline-insert: %s: %s\n", sql, error ? error : "failed");
        exit(1);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (help || argc != 3) {
        fprintf(help ? stdout : stderr,
                "usage: baseline-insert INPUT.ndjson DB\n"
                "Inserts each line of INPUT as a row (id INTEGER PRIMARY KEY, doc BLOB) of a fresh SQLite\n"
                "database DB: one reused prepared statement, %d rows per transaction, WAL, synchronous=NORMAL.\n"
                "Prints {\"rows\", \"seconds\", \"rows_per_second\", \"bytes\"} as JSON.\n",
                ROWS_PER_TRANSACTION);
        return help ? 0 : 2;
    }
    const char *input_path = argv[1], *db_path = argv[2];

    FILE *input = strcmp(input_path, "-") == 0 ? stdin : fopen(input_path, "r");
    if (!input) {
        perror(input_path);
        return 1;
    }
    static char io_buffer[1 << 20];
    setvbuf(input, io_buffer, _IOFBF, sizeof io_buffer);

    /* A fresh database every run, so runs are comparable. */
    size_t path_length = strlen(db_path);
    char *side = malloc(path_length + 5);
    if (!side) die(NULL, "malloc");
    unlink(db_path);
    snprintf(side, path_length + 5, "%s-wal", db_path);
    unlink(side);
    snprintf(side, path_length + 5, "%s-shm", db_path);
    unlink(side);
    free(side);

    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK) die(db, "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=NORMAL");
    exec(db, "CREATE TABLE events (id INTEGER PRIMARY KEY, doc BLOB NOT NULL)");

    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v3(db, "INSERT INTO events (doc) VALUES (?1)", -1, SQLITE_PREPARE_PERSISTENT, &insert, NULL)
        != SQLITE_OK)
        die(db, "prepare");

    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    long long rows = 0;
    int in_transaction = 0;

    double started = now();
    while ((length = getline(&line, &capacity, input)) != -1) {
        if (length > 0 && line[length - 1] == '\n') length--;
        if (length > 0 && line[length - 1] == '\r') length--;
        if (length == 0) continue;
        if (!in_transaction) {
            exec(db, "BEGIN");
            in_transaction = 1;
        }
        /* SQLITE_STATIC: the buffer stays valid until sqlite3_step returns, so no copy is made. */
        if (sqlite3_bind_blob(insert, 1, line, (int)length, SQLITE_STATIC) != SQLITE_OK) die(db, "bind");
        if (sqlite3_step(insert) != SQLITE_DONE) die(db, "insert");
        sqlite3_reset(insert);
        if (++rows % ROWS_PER_TRANSACTION == 0) {
            exec(db, "COMMIT");
            in_transaction = 0;
        }
    }
    if (ferror(input)) {
        perror(input_path);
        return 1;
    }
    if (in_transaction) exec(db, "COMMIT");
    sqlite3_finalize(insert);
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (sqlite3_close(db) != SQLITE_OK) die(db, "close");
    double seconds = now() - started;

    free(line);
    if (input != stdin) fclose(input);

    struct stat info;
    long long bytes = stat(db_path, &info) == 0 ? (long long)info.st_size : -1;
    printf("{\"rows\": %lld, \"seconds\": %.3f, \"rows_per_second\": %.0f, \"bytes\": %lld}\n", rows, seconds,
           seconds > 0 ? (double)rows / seconds : 0.0, bytes);
    return 0;
}
