/// Text made safe to print on a terminal: control characters and bidirectional overrides from
/// stored values are shown as `\uXXXX` instead of being obeyed.
///
/// A value in the log is whatever a source sent: a commit message holding `ESC ] 0 ;` retitles
/// the window, `ESC [ 2 J` clears the screen, U+202E (right-to-left override) makes `evil.sh`
/// read as `hs.live`. Escaped in JSON's own notation, so JSON text passed through stays valid
/// JSON with the same values (JSON already escapes the C0 controls; this adds C1 and bidi).
public enum TerminalText {
    /// `text` with every C0 control but the newline, DEL, every C1 control and every bidi
    /// embedding, override and isolate written as `\uXXXX`.
    public static func escaped(_ text: String, keepingNewlines: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines) }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepingNewlines: keepingNewlines) else {
                result.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            result.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
        }
        return String(result)
    }

    static func needsEscape(_ scalar: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: return !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        // Embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates (LRI, RLI, FSI, PDI),
        // and the marks (LRM, RLM, ALM) that can reorder what follows them.
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }
}
