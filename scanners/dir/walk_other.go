//go:build !linux

package dir

import "context"

// walkTree is walkPortable outside Linux.
func (s *Scanner) walkTree(ctx context.Context, root, top string, w walker) {
	s.walkPortable(ctx, root, top, w)
}
