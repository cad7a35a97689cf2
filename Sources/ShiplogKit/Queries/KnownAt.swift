extension EventStore {
    /// The last position the log held at `moment`. Events are appended in position order, so
    /// what the log knew then is a prefix: the events recorded (whose append began) at or before it.
    public func position(knownAt moment: Timestamp) throws -> Int64 {
        try read {
            let statement = try database.prepare(
                "SELECT coalesce((SELECT min(position) FROM events WHERE recorded_at > ?1) - 1, (SELECT max(position) FROM events), 0)")
            statement.bind(1, moment.microseconds)
            _ = try statement.step()
            return statement.int(0)
        }
    }

    /// Runs a query against what the log knew at `moment` (nil: everything it holds). Events
    /// appended later are left out even when their event time is earlier (backdated, or late
    /// deliveries), so a figure published then is reproduced exactly. The projections are folded
    /// again up to that point in a transaction that is rolled back, which costs a rebuild of that
    /// much of the log and needs a store that can be written.
    public func asKnown<T>(at moment: Timestamp?, _ body: () throws -> T) throws -> T {
        guard let moment else { return try body() }
        let known = try position(knownAt: moment)
        guard let head = try head(), known < head.position else { return try body() }
        try refuseIfReadOnly()
        return try wrap {
            try withWriteCache {
                try database.execute("BEGIN IMMEDIATE")
                defer { try? database.execute("ROLLBACK") }
                try Projector(database: database).rebuild(upTo: known)
                return try body()
            }
        }
    }
}
