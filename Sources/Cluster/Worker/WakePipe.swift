import Foundation

/// A self-pipe: job threads put results in a locked queue and write one byte here, which
/// wakes the link thread's zmq_poll (libzmq sockets must not be shared between threads).
final class WakePipe {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw JobError("cannot create a pipe: errno \(errno)") }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1) // a full pipe already means "wake up"
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
    }
}

/// A queue shared between the link thread and the job threads.
final class LockedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false

    func push(_ item: Element) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    /// Blocks until an item arrives; nil once closed and empty.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        return items.isEmpty ? nil : items.removeFirst()
    }

    func drain() -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        let all = items
        items.removeAll()
        return all
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
