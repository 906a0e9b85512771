// Dev-only pages of the views (served by `vite`, never part of the build): ?page=timeline (the
// benchmark's synthetic run) or ?page=views (every view on real Simulator runs).
const page = new URLSearchParams(location.search).get('page');
void (page === 'views' ? import('./views-page') : import('./timeline-page'));
