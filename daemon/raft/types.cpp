#include "raft/types.h"

namespace troupe::raft {

const char* messageTypeName(MessageType t) {
    switch (t) {
    case MessageType::PreVote:
        return "PreVote";
    case MessageType::PreVoteResponse:
        return "PreVoteResp";
    case MessageType::Vote:
        return "Vote";
    case MessageType::VoteResponse:
        return "VoteResp";
    case MessageType::Append:
        return "App";
    case MessageType::AppendResponse:
        return "AppResp";
    case MessageType::Heartbeat:
        return "Heartbeat";
    case MessageType::HeartbeatResponse:
        return "HeartbeatResp";
    case MessageType::SnapshotChunk:
        return "Snap";
    case MessageType::SnapshotResponse:
        return "SnapResp";
    case MessageType::TimeoutNow:
        return "TimeoutNow";
    case MessageType::ReadIndex:
        return "ReadIndex";
    case MessageType::ReadIndexResponse:
        return "ReadIndexResp";
    }
    return "?";
}

const char* roleName(Role r) {
    switch (r) {
    case Role::Follower:
        return "follower";
    case Role::PreCandidate:
        return "pre-candidate";
    case Role::Candidate:
        return "candidate";
    case Role::Leader:
        return "leader";
    }
    return "?";
}

} // namespace troupe::raft
