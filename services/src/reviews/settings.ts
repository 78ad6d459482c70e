import { hostname } from 'node:os';
import { declareSettings, setting } from '#api';
import { outboundSettings, serviceListenSettings } from '../lib/settings.js';

export const reviewsSettings = declareSettings('reviews', {
  ...serviceListenSettings(9080),
  ...outboundSettings,
  enableRatings: setting.bool('ENABLE_RATINGS', false, 'call ratings and show stars (false for v1, true for v2/v3)'),
  starColor: setting.str('STAR_COLOR', 'black', 'star colour: black (v2) or red (v3)'),
  ratingsHostname: setting.str('RATINGS_HOSTNAME', 'ratings', 'host of the ratings service'),
  ratingsPort: setting.int('RATINGS_SERVICE_PORT', 9080, 'port of the ratings service', 1, 65535),
  servicesDomain: setting.str('SERVICES_DOMAIN', '', 'domain appended to service hosts (empty: short names)'),
  podName: setting.str('HOSTNAME', hostname(), 'shown as podname (the container hostname)'),
  clusterName: setting.str('CLUSTER_NAME', 'null', 'shown as clustername ("null" hides it, as the original)'),
});
