import ArgumentParser
import ShiplogKit

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 key for signing checkpoints.",
        discussion: """
            Writes the signing key to FILE (mode 0600; an existing file is never overwritten) and \
            its public key to FILE.pub, and prints the public key. Keep the signing key where the \
            writers get it like a deploy key (--signing-key FILE, $SHIPLOG_SIGNING_KEY_FILE, or \
            the key itself in $SHIPLOG_SIGNING_KEY), never next to the store: whoever can write \
            the store and read the key can rewrite the log. Give the public key to \
            `verify --public-key`.
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the signing key.", valueName: "file"))
    var output: String

    func run() throws {
        let signer = CheckpointSigner()
        let publicPath = output + ".pub"
        if System.fileExists(publicPath) {
            throw CommandFailure("\(publicPath) already exists (refusing to overwrite it)")
        }
        try System.createNewFile(output, Array(signer.text.utf8), private: true)
        try System.createNewFile(publicPath, Array((signer.publicKey.description + "\n").utf8), private: false)
        Terminal.write("""
            signing key written to \(output) (mode 0600); public key in \(publicPath):
            \(signer.publicKey)

            """)
    }
}

struct Anchor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the signed head of the log, to keep outside the store.",
        discussion: """
            Prints the checkpoint at the head (position, chain hash, time, and its signature when \
            the store is signed) as JSON. Keep it where whoever can write the store cannot change \
            it (a CI artifact, an S3 object with Object Lock, a git commit); `verify --anchor FILE` \
            then detects a log that was rewritten or cut back since, even with the signing key.
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write it to this file instead of standard output.", valueName: "file"))
    var output: String?

    func run() throws {
        let signed: SignedCheckpoint?
        do { signed = try store.open().anchor() } catch StoreError.damaged(let path, let reason) {
            throw CommandFailure("integrity failure: \(path): \(reason)", status: .integrity)
        }
        guard let signed else { throw CommandFailure("the log is empty: there is no head to anchor") }
        let text = signed.json + "\n"
        if let output { try System.writeFile(output, Array(text.utf8)) } else { Terminal.write(text) }
        if signed.signature == nil {
            printError("warning: the head is not signed (append with a signing key to sign it); the anchor still pins the chain")
        }
    }
}

/// `--signing-key`: the key that signs the checkpoints of the commands that append.
struct SigningOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Sign checkpoints with this key (from `shiplog keygen`; default: $SHIPLOG_SIGNING_KEY_FILE, else the key in $SHIPLOG_SIGNING_KEY).",
            valueName: "file"))
    var signingKey: String?

    /// The key, from the flag or the environment; nil when none is given.
    func signer() throws -> CheckpointSigner? {
        do { return try CheckpointSigner.load(file: signingKey) } catch {
            throw CommandFailure(error.description, status: .usage)
        }
    }

    /// Opens the store and gives it the key, so each checkpoint it appends is signed.
    func open(_ store: StoreOptions) throws -> EventStore {
        let signer = try signer()
        let opened = try store.open()
        opened.checkpointSigner = signer
        return opened
    }
}
