/// The ready trials of one job type, oldest first, each with its rank: `TrialScheduler` keeps
/// one queue per job type and compares ranks across them, so a worker that runs every job type
/// is leased trials in the order one queue would give, and one that runs a few skips the rest
/// without looking at them.
struct ReadyQueue {
    private var items: [(rank: Int, id: String)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var first: (rank: Int, id: String)? { isEmpty ? nil : items[head] }

    mutating func append(_ id: String, rank: Int) { items.append((rank, id)) }

    mutating func pushFront(_ id: String, rank: Int) {
        if head > 0 { head -= 1; items[head] = (rank, id) } else { items.insert((rank, id), at: 0) }
    }

    /// The first trial's id; call only when not empty.
    mutating func removeFirst() -> String {
        let id = items[head].id
        head += 1
        // Drop the popped prefix now and then, so a long sweep's queue does not only grow.
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        return id
    }
}
