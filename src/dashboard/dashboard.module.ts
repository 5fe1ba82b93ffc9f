import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module.js';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { OAuthModule } from '../delivery/oauth/oauth.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { RelaysModule } from '../relays/relays.module.js';
import { ReportsModule } from '../reports/reports.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { WebModule } from '../web/web.module.js';
import { AdminPasswordService } from './admin-password.service.js';
import { LoginEvents } from './login-events.js';
import { LoginThrottle } from './login-throttle.js';
import { AccountPageController } from './pages/account.page.controller.js';
import { AuthController } from './pages/auth.controller.js';
import { ChannelsPageController } from './pages/channels.page.controller.js';
import { EventsPageController } from './pages/events.page.controller.js';
import { FaviconController } from './pages/favicon.controller.js';
import { HomeController } from './pages/home.controller.js';
import { MailLogPageController } from './pages/mail-log.page.controller.js';
import { MessageStoryController } from './pages/message-story.controller.js';
import { QueuePageController } from './pages/queue.page.controller.js';
import { RelaysPageController } from './pages/relays.page.controller.js';
import { ReportsPageController } from './pages/reports.page.controller.js';
import { RulesPageController } from './pages/rules.page.controller.js';
import { SettingsPageController } from './pages/settings.page.controller.js';
import { TestEmailPageController } from './pages/test-email.page.controller.js';

/** The top floor: every page of the dashboard, over the domain modules' services. */
@Module({
  imports: [ChannelsModule, DeliveryModule, EventsModule, IntakeModule, MailLogModule, OAuthModule, QueueModule, RelaysModule, ReportsModule, SettingsModule, WebModule],
  // One throttle for the login and the account page's current-password check.
  providers: [AdminPasswordService, LoginEvents, { provide: LoginThrottle, useValue: new LoginThrottle() }],
  controllers: [
    AuthController,
    AccountPageController,
    FaviconController,
    HomeController,
    SettingsPageController,
    TestEmailPageController,
    RelaysPageController,
    ChannelsPageController,
    RulesPageController,
    QueuePageController,
    MailLogPageController,
    EventsPageController,
    MessageStoryController,
    ReportsPageController,
  ],
  exports: [AdminPasswordService],
})
export class DashboardModule {}
