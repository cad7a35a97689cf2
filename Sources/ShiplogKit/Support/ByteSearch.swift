extension StringProtocol {
    /// The range of the first occurrence of `marker`, compared byte by byte.
    ///
    /// Ingest looks for ASCII markers in ARNs, ids and reasons on every event; the generic
    /// `firstRange(of:)` costs about 50,000 instructions a call (measured with callgrind), this
    /// a few hundred.
    func byteRange(of marker: String) -> Range<Index>? {
        let view = utf8
        var marker = marker
        return marker.withUTF8 { needle -> Range<Index>? in
            guard let first = needle.first else { return nil }
            var start = view.startIndex
            while let candidate = view[start...].firstIndex(of: first) {
                var cursor = candidate
                var matched = 0
                while matched < needle.count, cursor != view.endIndex, view[cursor] == needle[matched] {
                    view.formIndex(after: &cursor)
                    matched += 1
                }
                if matched == needle.count { return candidate..<cursor }
                start = view.index(after: candidate)
            }
            return nil
        }
    }

    func containsBytes(_ marker: String) -> Bool { byteRange(of: marker) != nil }
}
