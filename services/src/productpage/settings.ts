import { declareSettings, setting } from '#api';
import { outboundSettings, serviceListenSettings } from '../lib/settings.js';

export const productpageSettings = declareSettings('productpage', {
  ...serviceListenSettings(9080),
  ...outboundSettings,
  servicesDomain: setting.str('SERVICES_DOMAIN', '', 'domain appended to service hosts (empty: short names)'),
  detailsHostname: setting.str('DETAILS_HOSTNAME', 'details', 'host of the details service'),
  detailsPort: setting.int('DETAILS_SERVICE_PORT', 9080, 'port of the details service', 1, 65535),
  reviewsHostname: setting.str('REVIEWS_HOSTNAME', 'reviews', 'host of the reviews service'),
  reviewsPort: setting.int('REVIEWS_SERVICE_PORT', 9080, 'port of the reviews service', 1, 65535),
  ratingsHostname: setting.str('RATINGS_HOSTNAME', 'ratings', 'host of the ratings service'),
  ratingsPort: setting.int('RATINGS_SERVICE_PORT', 9080, 'port of the ratings service', 1, 65535),
});
