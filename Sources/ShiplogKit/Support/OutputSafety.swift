/// Keeps a command from writing its output over a file it reads.
///
/// Opening an output truncates it, so `export --output shiplog.db` would empty the store and
/// `ingest in.ndjson --rejects in.ndjson` the input before a byte was read. The check runs
/// before anything is opened, and compares both the files' identities (device and inode, so a
/// hard link or a symlink to the store counts) and their resolved paths (so the store's
/// `-wal`, which may not exist yet, counts too).
public enum OutputSafety {
    /// The files SQLite keeps beside a store: writing any of them damages or empties it.
    static let storeCompanions = ["", "-wal", "-shm", "-journal"]

    /// Why `output` must not be written, or nil when it is safe: it is the store at `store` (or
    /// one of its companion files) or one of `inputs` (`-` is standard input, when it is a file).
    public static func problem(writing output: String, store: String?, inputs: [String] = []) -> String? {
        let target = System.resolvedPath(output)
        let targetIdentity = System.fileIdentity(output)
        func same(_ path: String) -> Bool {
            if let targetIdentity, System.fileIdentity(path) == targetIdentity { return true }
            return System.resolvedPath(path) == target
        }
        if let store {
            for suffix in storeCompanions where same(store + suffix) {
                let what = suffix.isEmpty ? "the store" : "the store's \(suffix.dropFirst()) file"
                return "\(output) is \(what) \(store + suffix); writing it would destroy the log"
            }
        }
        for input in inputs {
            if input == "-" {
                if let targetIdentity, System.fileIdentity(descriptor: 0) == targetIdentity {
                    return "\(output) is the file standard input reads; writing it would empty the input"
                }
            } else if same(input) {
                return "\(output) is the input \(input); writing it would empty the input"
            }
        }
        return nil
    }
}
