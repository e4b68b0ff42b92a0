package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// momentaryRefusals are the codes of pushes refused for a reason of the
// moment (the server busy, the body stalled on the way, a store out of
// reach), which the phone's retry gets past by itself: they do not make
// a phone's pushes failing.
var momentaryRefusals = []string{syncproto.CodeServerBusy, syncproto.CodeRequestTimeout, syncproto.CodeUnavailable}

// ErrBodyIncomplete is the cause of a request refused because its body
// did not arrive whole (the connection dropped, a chunk malformed): the
// client never read the answer, and sends the request again.
var ErrBodyIncomplete = errors.New("request body did not arrive whole")

// maxRefusalMessage bounds the message kept with a refused push, in
// characters.
const maxRefusalMessage = 300

// PushRefused records, for the offices' 同步状态, that p's device had a
// push refused whole with err (its body, or Push): nothing of it was
// applied, and a phone that keeps sending it is refused again, while its
// pulls go on and its last push grows old unnoticed. A refusal of the
// moment (momentaryRefusals, or a body that did not arrive whole:
// ErrBodyIncomplete) is not recorded. The refusal shows until a push of
// the device is answered (DeviceHealth.PushRefused): applied, or replayed.
func (s *Syncer) PushRefused(ctx context.Context, p *Principal, err error) error {
	code := ErrorCode(err)
	if err == nil || p == nil || p.DeviceID == "" || slices.Contains(momentaryRefusals, code) || errors.Is(err, ErrBodyIncomplete) {
		return nil
	}
	msg := []rune(ErrorMessage(err))
	if len(msg) > maxRefusalMessage {
		msg = append(msg[:maxRefusalMessage-1], '…')
	}
	// Recorded even when the request's context has ended: the phone gave
	// up waiting, and was refused all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.Store.MarkPushRefused(ctx, p.DeviceID, RefusedPush{At: s.Now(), Code: code, Message: string(msg)})
}
